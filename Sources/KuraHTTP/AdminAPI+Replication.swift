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
        api.get("replication/rules") { r, c in
            await handle(r, c) { caller, _ in
                try Self.requireAdmin(caller)
                return try encode(await replicator.allRules().map(RuleView.init))
            }
        }
        api.put("replication/rules/:name") { r, c in
            await handle(r, c) { caller, body in
                try Self.requireAdmin(caller)
                let rule = try Self.rule(named: try c.parameters.require("name"), from: try body.object(allowed: Self.ruleFields))
                do { try await replicator.put(rule) } catch let error as MirrorError { throw AdminError.invalid(error.description) }
                return try encode(RuleView(rule))
            }
        }
        api.delete("replication/rules/:name") { r, c in
            await handle(r, c) { caller, _ in
                try Self.requireAdmin(caller)
                let name = try c.parameters.require("name")
                guard try await replicator.remove(name) else { throw AdminError.notFound("no replication rule \(name)") }
                return try noContent()
            }
        }
        api.post("replication/rules/:name/run") { r, c in
            await handle(r, c) { caller, _ in
                try Self.requireAdmin(caller)
                let name = try c.parameters.require("name")
                guard await replicator.rule(name) != nil else { throw AdminError.notFound("no replication rule \(name)") }
                await replicator.trigger(name, reason: "manual")
                return (.accepted, nil)
            }
        }
        api.get("replication/runs") { r, c in
            await handle(r, c) { caller, _ in
                try Self.requireAdmin(caller)
                return try encode(await replicator.runs(of: r.uri.queryParameters["rule"].map(String.init)))
            }
        }
    }

    static func requireAdmin(_ caller: AccessAdmin.Caller) throws {
        guard caller.principal.isRoot || caller.principal.isAdmin else { throw AdminError.denied("replication rules are for root and admins") }
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
