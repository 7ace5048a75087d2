import Foundation
import HTTPTypes
import Hummingbird
import KuraAccess
import KuraHTTP
import KuraMirror

/// Replication rules (add or replace, delete, run now) and their recent runs, for root and
/// account admins; ``ReplicationAdmin`` decides, as it does for the admin API.
extension Dashboard {
    struct RuleRow {
        var name: String
        var direction: String
        var namespace: String
        var remote: String
        var remoteNamespace: String
        var remoteUsername: String
        var tags: String
        var schedule: String
    }

    struct RunRow {
        var rule: String
        var trigger: String
        var started: String
        var seconds: String
        var copied: String
        var outcome: String
        var failed: Bool
    }

    struct ReplicationView {
        var csrf: String
        var rules: [RuleRow]
        var runs: [RunRow]
        var hasRuns: Bool
    }

    func registerReplication(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        router.get("/admin/replication") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                let replication = try replicationAdmin()
                let rules = try await replication.rules(visit.caller).map(Self.ruleRow)
                let runs = try await replication.runs(visit.caller, rule: nil).prefix(100).map(Self.runRow)
                return pages.page(
                    "replication", ReplicationView(csrf: visit.csrfToken, rules: rules, runs: Array(runs), hasRuns: !runs.isEmpty),
                    layout: LayoutView(title: "Replication", visit: visit))
            }
        }
        router.post("/admin/replication/:action") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, form in
                let replication = try replicationAdmin()
                switch try context.parameters.require("action") {
                case "rules":
                    try ReplicationAdmin.requireAdmin(visit.caller)
                    try await replication.put(visit.caller, try Self.replicationRule(form))
                case "delete": try await replication.remove(visit.caller, name: form["name"] ?? "")
                case "run": try await replication.run(visit.caller, name: form["name"] ?? "")
                default: throw AdminError.notFound("no such form")
                }
                return Self.redirect(to: "/admin/replication")
            }
        }
    }

    private func replicationAdmin() throws -> ReplicationAdmin {
        guard let replicator else { throw AdminError.notFound("this server does not run replication") }
        return ReplicationAdmin(replicator: replicator)
    }

    /// A rule from the form; the rule validates itself when stored.
    static func replicationRule(_ form: FormBody) throws -> ReplicationRule {
        guard let direction = ReplicationRule.Direction(rawValue: form["direction"] ?? "") else {
            throw AdminError.invalid("direction must be pull or push")
        }
        func credentials(_ prefix: String) throws -> RegistryCredentials? {
            switch (form.filled("\(prefix)_username"), form["\(prefix)_password"].flatMap { $0.isEmpty ? nil : $0 }) {
            case (let user?, let password?): return RegistryCredentials(username: user, password: password)
            case (nil, nil): return nil
            default: throw AdminError.invalid("a user name and a password go together")
            }
        }
        var interval: Int?
        if let text = form.filled("interval_seconds") {
            guard let seconds = Int(text) else { throw AdminError.invalid("the interval must be a whole number of seconds") }
            interval = seconds
        }
        return ReplicationRule(
            name: form.filled("name") ?? "", direction: direction, namespace: form.filled("namespace") ?? "", remote: form.filled("remote") ?? "",
            remoteNamespace: form.filled("remote_namespace"), remoteCredentials: try credentials("remote"), localCredentials: try credentials("local"),
            tags: form.filled("tags"), intervalSeconds: interval, onPush: form["on_push"] == "on")
    }

    static func ruleRow(_ rule: ReplicationRule) -> RuleRow {
        var schedule: [String] = []
        if let interval = rule.intervalSeconds { schedule.append("every \(interval) s") }
        if rule.onPush { schedule.append("on push") }
        return RuleRow(
            name: rule.name, direction: rule.direction.rawValue, namespace: rule.namespace, remote: rule.remote,
            remoteNamespace: rule.remoteNamespace ?? rule.namespace, remoteUsername: rule.remoteCredentials?.username ?? "", tags: rule.tags ?? "",
            schedule: schedule.isEmpty ? "on demand" : schedule.joined(separator: ", "))
    }

    static func runRow(_ run: ReplicationRun) -> RunRow {
        let outcome = run.error.map { "failed: \($0)" } ?? (run.failures.isEmpty ? "ok" : "\(run.failures.count) failed")
        return RunRow(
            rule: run.rule, trigger: run.trigger, started: Display.time(run.started), seconds: String(format: "%.1f", run.seconds),
            copied: "\(run.counts.manifestsCopied) manifests, \(run.counts.blobsCopied) blobs, \(Display.bytes(run.counts.bytesCopied))", outcome: outcome, failed: !run.succeeded)
    }
}
