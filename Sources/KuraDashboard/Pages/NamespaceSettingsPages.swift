import Foundation
import HTTPTypes
import Hummingbird
import KuraAccess
import KuraCore
import KuraHTTP
import KuraMetadata

/// A namespace's settings for its managers and admins: members and their roles, the
/// storage quota, retention policies and webhooks. Every read and change goes through
/// ``AccessAdmin``, which decides who may (grants and quotas: admins; retention and
/// webhooks: managers), exactly as for the admin API.
extension Dashboard {
    struct MemberRow {
        var account: String
        var role: String
        var viaAllNamespaces: Bool
    }

    struct RetentionRow {
        var scope: String
        var keepLast: String
        var keepPattern: String
        var olderThan: String
    }

    struct WebhookRow {
        var id: String
        var url: String
        var events: String
        var createdAt: String
    }

    struct EventChoice {
        var name: String
        var checked: Bool
    }

    struct NamespaceSettingsView {
        var name: String
        var base: String
        var csrf: String
        /// Grants and quotas are for admins; managers see them read-only.
        var isAdmin: Bool
        var members: [MemberRow]
        var quota: String?
        var stored: String
        var quotaPercent: Int?
        var retention: [RetentionRow]
        var webhooks: [WebhookRow]
        var events: [EventChoice]
        /// A webhook just created: its secret, shown on this page only.
        var newWebhookID: String?
        var newWebhookSecret: String?
    }

    func registerNamespaceSettings(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        router.get("/namespaces/:name/settings") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                try await settingsPage(visit, namespace: try context.parameters.require("name"))
            }
        }
        router.post("/namespaces/:name/settings/:action") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, form in
                let namespace = try context.parameters.require("name")
                switch try context.parameters.require("action") {
                case "grant":
                    guard let role = Role(rawValue: form["role"] ?? "") else { throw AdminError.invalid("role must be manager or viewer") }
                    try await admin.setGrant(visit.caller, account: form["account"] ?? "", namespace: namespace, role: role)
                case "revoke":
                    try await admin.removeGrant(visit.caller, account: form["account"] ?? "", namespace: namespace)
                case "quota":
                    let text = form["quota"] ?? ""
                    guard let bytes = ByteCount.parse(text) else {
                        throw AdminError.invalid("a size is a number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB), not \(text.debugDescription)")
                    }
                    try await admin.setQuota(visit.caller, namespace: namespace, maxBytes: bytes)
                case "quota-remove":
                    try await admin.setQuota(visit.caller, namespace: namespace, maxBytes: nil)
                case "retention":
                    try await admin.setRetentionPolicy(visit.caller, try Self.retentionPolicy(form, namespace: namespace))
                case "retention-remove":
                    try await admin.removeRetentionPolicy(visit.caller, scope: form["scope"] ?? "")
                case "webhooks":
                    let events = Set(WebhookEvent.allCases.filter { form["event_\($0.rawValue)"] == "on" })
                    // A secret the browser did not choose is made here and shown once.
                    let given = form["secret"] ?? ""
                    let secret = given.isEmpty ? ConsoleSessions.randomToken() : given
                    let record = try await admin.createWebhook(visit.caller, namespace: namespace, url: form["url"] ?? "", secret: secret, events: events)
                    webhooks?.invalidate()
                    return try await settingsPage(
                        visit, namespace: namespace, newWebhook: (record.id, given.isEmpty ? secret : nil), status: .created)
                case "webhook-delete":
                    try await admin.deleteWebhook(visit.caller, namespace: namespace, id: form["id"] ?? "")
                    webhooks?.invalidate()
                default:
                    throw AdminError.notFound("no such form")
                }
                return Self.redirect(to: "/namespaces/\(Display.pathEscape(namespace))/settings")
            }
        }
    }

    /// A policy from the form: the scope (the namespace or one of its repositories), keep
    /// last N, a keep pattern, and an age in days.
    static func retentionPolicy(_ form: FormBody, namespace: String) throws -> RetentionPolicy {
        var keepLast: Int?
        if let text = form.filled("keep_last") {
            guard let number = Int(text) else { throw AdminError.invalid("keep last must be a whole number") }
            keepLast = number
        }
        var olderThan: TimeInterval?
        if let text = form.filled("older_than_days") {
            guard let days = Int(text), days > 0, days <= 36_500 else { throw AdminError.invalid("older than must be 1 to 36500 days") }
            olderThan = TimeInterval(days) * 86_400
        }
        return RetentionPolicy(scope: form.filled("scope") ?? namespace, keepLast: keepLast, keepPattern: form.filled("keep_pattern"), deleteOlderThan: olderThan)
    }

    private func settingsPage(
        _ visit: Visit, namespace: String, newWebhook: (id: String, secret: String?)? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        // Each call checks the caller: a viewer gets 403 from the first.
        let members = try await admin.members(visit.caller, namespace: namespace).map {
            MemberRow(account: $0.account, role: $0.role.rawValue, viaAllNamespaces: $0.viaAllNamespaces)
        }
        let quota = try await admin.quota(visit.caller, namespace: namespace)
        let retention = try await admin.retentionPolicies(visit.caller, namespace: namespace).map {
            RetentionRow(
                scope: $0.scope, keepLast: $0.keepLast.map(String.init) ?? "–", keepPattern: $0.keepPattern ?? "",
                olderThan: $0.deleteOlderThan.map { "\(Int(($0 / 86_400).rounded())) days" } ?? "–")
        }
        let hooks = try await admin.webhooks(visit.caller, namespace: namespace).map {
            WebhookRow(id: $0.id, url: $0.url, events: $0.events.map(\.rawValue).sorted().joined(separator: ", "), createdAt: Display.time($0.createdAt))
        }
        let percent = quota.maxBytes.map { $0 > 0 ? Int(min(100, quota.physicalBytes * 100 / $0)) : 100 }
        let view = NamespaceSettingsView(
            name: namespace, base: "/namespaces/\(Display.pathEscape(namespace))/settings", csrf: visit.csrfToken, isAdmin: visit.principal.isAdmin,
            members: members, quota: quota.maxBytes.map(Display.bytes), stored: Display.bytes(quota.physicalBytes), quotaPercent: percent,
            retention: retention, webhooks: hooks,
            events: WebhookEvent.allCases.map { EventChoice(name: $0.rawValue, checked: $0 == .push || $0 == .delete) },
            newWebhookID: newWebhook?.id, newWebhookSecret: newWebhook?.secret)
        return pages.page(
            "namespace-settings", view,
            layout: LayoutView(
                title: "Settings of \(namespace)", visit: visit,
                crumbs: [.init(name: "Namespaces", href: "/"), .init(name: namespace, href: "/namespaces/\(Display.pathEscape(namespace))")]),
            status: status)
    }
}
