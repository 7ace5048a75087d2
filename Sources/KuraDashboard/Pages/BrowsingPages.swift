import Foundation
import HTTPTypes
import Hummingbird
import KuraAccess
import KuraHTTP
import KuraMetadata

/// The namespaces the caller sees, and one namespace's repositories.
extension Dashboard {
    static let repositoriesPerPage = 50

    struct NamespaceRow {
        var name: String
        var href: String
        var isPublic: Bool
        var role: String?
        var repositories: Int
        var physical: String
        var logical: String
        var quota: String?
        /// Percent of the quota used, 0–100, for the usage bar.
        var quotaPercent: Int?
        var quotaWarning: Bool
    }

    struct NamespacesView {
        var namespaces: [NamespaceRow]
        var empty: Bool
    }

    struct RepositoryRow {
        var name: String
        var href: String
        var short: String
        var tags: String
        var size: String
        var lastPushed: String
        var lastPulled: String
    }

    struct NamespaceView {
        var name: String
        var filter: String
        var repositories: [RepositoryRow]
        var nextHref: String?
        var empty: Bool
        var hasFilter: Bool
        var usageHref: String?
        /// For its managers and admins: members, quota, retention, webhooks.
        var settingsHref: String?
    }

    func registerBrowsing(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        router.get("/") { request, context in
            await visit(request, context, listener) { visit, _ in
                let summaries = try await admin.namespaceSummaries(visit.caller)
                let rows = summaries.map { summary in
                    let percent = summary.quotaBytes.map { $0 > 0 ? Int(min(100, summary.physicalBytes * 100 / $0)) : 100 }
                    return NamespaceRow(
                        name: summary.record.name, href: "/namespaces/\(Display.pathEscape(summary.record.name))", isPublic: summary.record.isPublic,
                        role: summary.role?.rawValue, repositories: summary.repositoryCount, physical: Display.bytes(summary.physicalBytes),
                        logical: Display.bytes(summary.logicalBytes), quota: summary.quotaBytes.map(Display.bytes), quotaPercent: percent,
                        quotaWarning: (percent ?? 0) >= 90)
                }
                return pages.page("namespaces", NamespacesView(namespaces: rows, empty: rows.isEmpty), layout: LayoutView(title: "Namespaces", visit: visit))
            }
        }
        router.get("/namespaces/:name") { request, context in
            await visit(request, context, listener) { visit, _ in
                let name = try context.parameters.require("name")
                let query = request.uri.queryParameters
                let filter = query["q"].map(String.init) ?? ""
                let page = try await admin.repositoryPage(
                    visit.caller, namespace: name, filter: filter, after: query["after"].map(String.init), limit: Self.repositoriesPerPage)
                let rows = page.items.map { item in
                    RepositoryRow(
                        name: item.name.value, href: "/repositories/\(Display.pathEscape(item.name.value))", short: item.shortDescription,
                        tags: item.tagCount > AccessAdmin.tagCountLimit ? "\(AccessAdmin.tagCountLimit)+" : String(item.tagCount),
                        size: Display.bytes(item.logicalBytes), lastPushed: item.lastPushed.map(Display.time) ?? "",
                        lastPulled: item.lastPulled.map(Display.hour) ?? "")
                }
                let next = page.next.map { "/namespaces/\(Display.pathEscape(name))?q=\(Display.queryEscape(filter))&after=\(Display.queryEscape($0))" }
                return pages.page(
                    "namespace", NamespaceView(name: name, filter: filter, repositories: rows, nextHref: next, empty: rows.isEmpty, hasFilter: !filter.isEmpty,
                        usageHref: visit.session == nil ? nil : "/namespaces/\(Display.pathEscape(name))/usage",
                        settingsHref: visit.principal.isAdmin || visit.principal.role(in: name) == .manager
                            ? "/namespaces/\(Display.pathEscape(name))/settings" : nil),
                    layout: LayoutView(title: name, visit: visit, crumbs: [.init(name: "Namespaces", href: "/")]))
            }
        }
    }
}
