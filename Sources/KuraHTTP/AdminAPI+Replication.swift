import Foundation
import Hummingbird
import KuraAccess
import KuraMirror

/// `/api/v1/replication/…`: replication rules (root and admins only) and their runs.
/// Passwords go in and are never shown again.
extension AdminAPI {
    /// A rule as the API shows it: who it signs in as, never the password.
    struct RuleView: Encodable {
        var name: String
        var direction: String
        var namespace: String
        var remote: String
        var remoteNamespace: String
        var remoteUsername: String?
        var localUsername: String?
        var tags: String?
        var intervalSeconds: Int?
        var onPush: Bool

        init(_ rule: ReplicationRule) {
            name = rule.name
            direction = rule.direction.rawValue
            namespace = rule.namespace
            remote = rule.remote
            remoteNamespace = rule.remoteNamespace ?? rule.namespace
            remoteUsername = rule.remoteCredentials?.username
            localUsername = rule.localCredentials?.username
            tags = rule.tags
            intervalSeconds = rule.intervalSeconds
            onPush = rule.onPush
        }
    }

    static let ruleFields: Set<String> = [
        "direction", "namespace", "remote", "remoteNamespace", "remoteUsername", "remotePassword", "localUsername", "localPassword", "tags",
        "intervalSeconds", "onPush",
    ]

    func registerReplication(on api: RouterGroup<KuraRequestContext>, _ replicator: Replicator) {
        let replication = ReplicationAdmin(replicator: replicator)
        api.get("replication/rules") { r, c in
            await handle(r, c) { caller, _ in try encode(try await replication.rules(caller).map(RuleView.init)) }
        }
        api.put("replication/rules/:name") { r, c in
            await handle(r, c) { caller, body in
                try ReplicationAdmin.requireAdmin(caller)
                let rule = try Self.rule(named: try c.parameters.require("name"), from: try body.object(allowed: Self.ruleFields))
                try await replication.put(caller, rule)
                return try encode(RuleView(rule))
            }
        }
        api.delete("replication/rules/:name") { r, c in
            await handle(r, c) { caller, _ in
                try await replication.remove(caller, name: try c.parameters.require("name"))
                return try noContent()
            }
        }
        api.post("replication/rules/:name/run") { r, c in
            await handle(r, c) { caller, _ in
                try await replication.run(caller, name: try c.parameters.require("name"))
                return (.accepted, nil)
            }
        }
        api.get("replication/runs") { r, c in
            await handle(r, c) { caller, _ in
                try encode(try await replication.runs(caller, rule: r.uri.queryParameters["rule"].map(String.init)))
            }
        }
    }

    /// A rule from a request body; the rule validates itself when stored.
    static func rule(named name: String, from json: RequestJSON.Object) throws -> ReplicationRule {
        let direction: ReplicationRule.Direction
        switch try json.string("direction") {
        case "pull": direction = .pull
        case "push": direction = .push
        case let other: throw AdminError.invalid("direction must be pull or push, not \(other)")
        }
        func credentials(_ prefix: String) throws -> RegistryCredentials? {
            let user = json.values["\(prefix)Username"] == nil ? nil : try json.string("\(prefix)Username")
            let password = json.values["\(prefix)Password"] == nil ? nil : try json.string("\(prefix)Password")
            switch (user, password) {
            case (let user?, let password?): return RegistryCredentials(username: user, password: password)
            case (nil, nil): return nil
            default: throw AdminError.invalid("\(prefix)Username and \(prefix)Password go together")
            }
        }
        var interval: Int?
        if let value = json.values["intervalSeconds"] {
            guard let number = value as? Int else { throw AdminError.invalid("intervalSeconds must be a whole number") }
            interval = number
        }
        return ReplicationRule(
            name: name, direction: direction, namespace: try json.string("namespace"), remote: try json.string("remote"),
            remoteNamespace: json.values["remoteNamespace"] == nil ? nil : try json.string("remoteNamespace"),
            remoteCredentials: try credentials("remote"), localCredentials: try credentials("local"),
            tags: json.values["tags"] == nil ? nil : try json.string("tags"), intervalSeconds: interval, onPush: try json.bool("onPush") ?? false)
    }
}
