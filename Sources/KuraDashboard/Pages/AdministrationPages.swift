import Foundation
import HTTPTypes
import Hummingbird
import KuraAccess
import KuraHTTP
import KuraMetadata
import KuraRegistry

/// Accounts, their keys and grants, the audit log and job runs, for root and account
/// admins (AccessAdmin refuses everyone else, as the admin API does).
extension Dashboard {
    struct AccountRow {
        var name: String
        var href: String
        var isRoot: Bool
        var isAdmin: Bool
        var disabled: Bool
        var createdAt: String
    }

    struct AccountsView {
        var accounts: [AccountRow]
        var csrf: String
    }

    struct KeyRow {
        var id: String
        var active: Bool
        var createdAt: String
        var lastUsed: String
        var statusAction: String
        var rotateAction: String
    }

    struct GrantRow {
        var namespace: String
        var role: String
        var removeAction: String
    }

    struct AccountView {
        var name: String
        var isRoot: Bool
        var disabled: Bool
        var keys: [KeyRow]
        var grants: [GrantRow]
        var csrf: String
        var base: String
        /// A key just created or rotated: its secret, shown on this page only.
        var newKeyID: String?
        var newSecret: String?
    }

    struct AuditRow {
        var time: String
        var account: String
        var key: String
        var address: String
        var action: String
        var namespace: String
        var repository: String
        var detail: String
    }

    struct AuditView {
        var account: String
        var namespace: String
        var action: String
        var events: [AuditRow]
    }

    struct JobRow {
        var kind: String
        var startedAt: String
        var seconds: String
        var outcome: String
        var summary: String
    }

    struct JobsView {
        var runs: [JobRow]
        var hasRuns: Bool
    }

    func registerAdministration(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        router.get("/admin/accounts") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                let rows = try await admin.accounts(visit.caller).map {
                    AccountRow(
                        name: $0.name, href: "/admin/accounts/\(Display.pathEscape($0.name))", isRoot: $0.isRoot, isAdmin: $0.isAdmin,
                        disabled: $0.disabled, createdAt: Display.time($0.createdAt))
                }
                return pages.page("accounts", AccountsView(accounts: rows, csrf: visit.csrfToken), layout: LayoutView(title: "Accounts", visit: visit))
            }
        }
        router.post("/admin/accounts") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, form in
                let account = try await admin.createAccount(visit.caller, name: form["name"] ?? "", isAdmin: form["admin"] == "on")
                return Self.redirect(to: "/admin/accounts/\(Display.pathEscape(account.name))")
            }
        }
        router.get("/admin/accounts/:name") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                try await accountPage(visit, name: try context.parameters.require("name"), newKey: nil)
            }
        }
        router.post("/admin/accounts/:name/:action") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, form in
                let name = try context.parameters.require("name")
                let home = "/admin/accounts/\(Display.pathEscape(name))"
                switch try context.parameters.require("action") {
                case "keys":
                    // The secret is in this answer only; it is never stored.
                    return try await accountPage(visit, name: name, newKey: try await admin.createKey(visit.caller, account: name), status: .created)
                case "disable", "enable":
                    try await admin.setAccountDisabled(visit.caller, name: name, disabled: try context.parameters.require("action") == "disable")
                case "grants":
                    guard let role = Role(rawValue: form["role"] ?? "") else { throw AdminError.invalid("role must be manager or viewer") }
                    try await admin.setGrant(visit.caller, account: name, namespace: form["namespace"] ?? "", role: role)
                case "revoke":
                    try await admin.removeGrant(visit.caller, account: name, namespace: form["namespace"] ?? "")
                default:
                    throw AdminError.notFound("no such form")
                }
                return Self.redirect(to: home)
            }
        }
        router.post("/admin/keys/:id/:action") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, form in
                let id = try context.parameters.require("id")
                let account = form["account"] ?? ""
                switch try context.parameters.require("action") {
                case "disable": try await admin.setKeyStatus(visit.caller, id: id, status: .disabled)
                case "enable": try await admin.setKeyStatus(visit.caller, id: id, status: .active)
                case "delete": try await admin.deleteKey(visit.caller, id: id)
                case "rotate":
                    // A new key first (so the account is never without one), then the old one disabled.
                    let fresh = try await admin.createKey(visit.caller, account: account)
                    try await admin.setKeyStatus(visit.caller, id: id, status: .disabled)
                    return try await accountPage(visit, name: account, newKey: fresh, status: .created)
                default: throw AdminError.notFound("no such form")
                }
                return Self.redirect(to: "/admin/accounts/\(Display.pathEscape(account))")
            }
        }
        router.get("/admin/audit") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                let q = request.uri.queryParameters
                func field(_ key: String) -> String? { q[Substring(key)].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
                let events = try await admin.auditEvents(
                    visit.caller, AuditQuery(account: field("account"), namespace: field("namespace"), action: field("action"), limit: 200))
                let rows = events.map {
                    AuditRow(
                        time: Display.time($0.time), account: $0.account ?? "", key: $0.accessKeyID ?? "", address: $0.sourceAddress ?? "",
                        action: $0.action, namespace: $0.namespace ?? "", repository: $0.repository ?? "", detail: $0.detail ?? "")
                }
                let view = AuditView(account: field("account") ?? "", namespace: field("namespace") ?? "", action: field("action") ?? "", events: rows)
                return pages.page("audit", view, layout: LayoutView(title: "Audit log", visit: visit))
            }
        }
        router.get("/admin/jobs") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                guard visit.principal.isAdmin else { throw AdminError.denied("only root or an account admin may read job runs") }
                let runs = try await admin.registry.jobRuns(kind: nil, limit: 100).map { run in
                    JobRow(
                        kind: run.kind + (run.dryRun ? " (dry run)" : ""), startedAt: Display.time(run.startedAt),
                        seconds: run.finishedAt.map { String(format: "%.1f", $0.timeIntervalSince(run.startedAt)) } ?? "running",
                        outcome: run.error.map { "failed: \($0)" } ?? (run.finishedAt == nil ? "running" : "ok"), summary: run.summary ?? "")
                }
                return pages.page("jobs", JobsView(runs: runs, hasRuns: !runs.isEmpty), layout: LayoutView(title: "Job runs", visit: visit))
            }
        }
    }

    private func accountPage(_ visit: Visit, name: String, newKey: AccessAdmin.NewKey?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let accounts = try await admin.accounts(visit.caller)
        guard let account = accounts.first(where: { $0.name == name }) else { throw AdminError.notFound("account \(name) does not exist") }
        let keys = try await admin.keys(visit.caller, account: name).map {
            KeyRow(
                id: $0.id, active: $0.status == .active, createdAt: Display.time($0.createdAt), lastUsed: $0.lastUsedAt.map(Display.time) ?? "never",
                statusAction: "/admin/keys/\(Display.pathEscape($0.id))/\($0.status == .active ? "disable" : "enable")",
                rotateAction: "/admin/keys/\(Display.pathEscape($0.id))/rotate")
        }
        let base = "/admin/accounts/\(Display.pathEscape(name))"
        let grants = try await admin.grants(visit.caller, account: name).map {
            GrantRow(namespace: $0.namespace, role: $0.role.rawValue, removeAction: "\(base)/revoke")
        }
        let view = AccountView(
            name: name, isRoot: account.isRoot, disabled: account.disabled, keys: keys, grants: grants, csrf: visit.csrfToken, base: base,
            newKeyID: newKey?.accessKeyID, newSecret: newKey?.secretKey)
        return pages.page(
            "account", view, layout: LayoutView(title: "Account \(name)", visit: visit, crumbs: [.init(name: "Accounts", href: "/admin/accounts")]),
            status: status)
    }
}
