import Foundation
import HTTPTypes
import Hummingbird
import KuraAccess
import KuraCore
import KuraHTTP
import KuraMetadata
import KuraRegistry

/// A repository (`/repositories/NAME`), its description (`…/-/description`), a manifest
/// (`…/-/manifests/REF`) and deletion (`…/-/delete?reference=REF`). Repository names hold
/// slashes but no component starts with `-`, so `/-/` separates the name from the page.
extension Dashboard {
    static let tagsPerPage = 50

    struct TagRowView {
        var tag: String
        var href: String
        var digest: String
        var shortDigest: String
        var mediaType: String
        var platforms: String
        var size: String
        var sizeBytes: Int64
        var pushedAt: String
        var lastPulled: String
        var deleteHref: String?
    }

    struct RepositoryView {
        var name: String
        var namespace: String
        var short: String
        var full: String
        var fullHTML: String
        var hasFull: Bool
        var canEdit: Bool
        var canDelete: Bool
        var csrf: String
        var editHref: String
        var shortLimit = AccessAdmin.maximumShortDescription
        var fullLimitKiB = AccessAdmin.maximumFullDescriptionBytes >> 10
        var pullDocker: String
        var pullPodman: String
        var tags: [TagRowView]
        var nextHref: String?
        var noTags: Bool
        var hasShort: Bool
        var lastPushed: String
        var lastPulled: String
        /// The server-side order of the tag pages, and links to each.
        var byNewest: Bool
        var sortByNameHref: String
        var sortByNewestHref: String
    }

    /// The pieces of a `/repositories/…` path.
    struct RepositoryPath {
        var repository: RepositoryName
        /// What follows `/-/`: empty for the repository page.
        var page: Substring

        init(_ path: String) throws {
            let rest = path.dropFirst("/repositories/".count)
            let parts = rest.components(separatedBy: "/-/")
            let name = parts[0].removingPercentEncoding ?? parts[0]
            repository = try RepositoryName(parsing: name.hasSuffix("/") ? String(name.dropLast()) : name)
            page = parts.count > 1 ? Substring(parts[1...].joined(separator: "/-/")) : ""
        }
    }

    func registerRepository(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        router.get("/repositories/**") { request, context in
            await visit(request, context, listener) { visit, _ in
                let path = try RepositoryPath(request.uri.path)
                if path.page.isEmpty {
                    let query = request.uri.queryParameters
                    guard let order = TagOrder(rawValue: query["sort"].map(String.init) ?? "name") else {
                        throw AdminError.invalid("sort must be name or newest")
                    }
                    return try await repositoryPage(visit, path.repository, order: order, after: query["after"])
                }
                if path.page.hasPrefix("manifests/") {
                    let reference = try Reference(parsing: (String(path.page.dropFirst("manifests/".count)).removingPercentEncoding ?? ""))
                    return try await manifestPage(visit, path.repository, reference)
                }
                if path.page == "delete" {
                    let reference = try Reference(parsing: request.uri.queryParameters["reference"] ?? "")
                    return try await confirmDeletePage(visit, path.repository, reference)
                }
                throw AdminError.notFound("no such page")
            }
        }
        router.post("/repositories/**") { request, context in
            await visit(request, context, listener) { visit, form in
                let path = try RepositoryPath(request.uri.path)
                let home = "/repositories/\(Display.pathEscape(path.repository.value))"
                switch path.page {
                case "description":
                    // CRLF from the browser's textarea becomes LF, as an editor would save it.
                    let full = form["full"]?.replacingOccurrences(of: "\r\n", with: "\n")
                    _ = try await admin.setDescription(visit.caller, repository: path.repository, short: form["short"], full: full)
                    return Self.redirect(to: home)
                case "delete":
                    let reference = try Reference(parsing: form["reference"] ?? "")
                    try await admin.delete(visit.caller, repository: path.repository, reference: reference)
                    return Self.redirect(to: home + "?deleted=" + Display.queryEscape(reference.description))
                default:
                    throw AdminError.notFound("no such form")
                }
            }
        }
    }

    private func crumbs(_ repository: RepositoryName) -> [LayoutView.Crumb] {
        let namespace = String(repository.firstComponent)
        return [.init(name: "Namespaces", href: "/"), .init(name: namespace, href: "/namespaces/\(Display.pathEscape(namespace))")]
    }

    private func repositoryPage(_ visit: Visit, _ repository: RepositoryName, order: TagOrder, after: Substring?) async throws -> Response {
        let description = try await admin.description(visit.caller, repository: repository)
        let actions = try await admin.actions(visit.caller, on: repository)
        let canDelete = actions.contains(.delete)
        let page = try await admin.tagPage(visit.caller, repository: repository, order: order, after: after.map(String.init), limit: Self.tagsPerPage)
        let activity = try await admin.activity(visit.caller, repository: repository)
        let home = "/repositories/\(Display.pathEscape(repository.value))"
        let rows = page.items.map { row in
            TagRowView(
                tag: row.tag.value, href: "\(home)/-/manifests/\(Display.pathEscape(row.tag.value))",
                digest: row.overview.record.digest.description, shortDigest: Display.shortDigest(row.overview.record.digest.description),
                mediaType: row.overview.record.mediaType, platforms: row.overview.platforms.map(\.description).joined(separator: ", "),
                size: Display.bytes(row.overview.compressedSize), sizeBytes: row.overview.compressedSize,
                pushedAt: Display.time(row.pushedAt), lastPulled: row.lastPulled.map(Display.time) ?? "",
                deleteHref: canDelete ? "\(home)/-/delete?reference=\(Display.queryEscape(row.tag.value))" : nil)
        }
        let view = RepositoryView(
            name: repository.value, namespace: String(repository.firstComponent), short: description.short, full: description.full,
            fullHTML: MarkdownRenderer.html(description.full), hasFull: !description.full.isEmpty,
            canEdit: actions.contains(.delete), canDelete: canDelete, csrf: visit.csrfToken, editHref: "\(home)/-/description",
            pullDocker: "docker pull \(registryAuthority(visit))/\(repository.value):\(page.items.first?.tag.value ?? "latest")",
            pullPodman: "podman pull \(registryAuthority(visit))/\(repository.value):\(page.items.first?.tag.value ?? "latest")",
            tags: rows, nextHref: page.next.map { "\(home)?sort=\(order.rawValue)&after=\(Display.queryEscape($0))" }, noTags: rows.isEmpty,
            hasShort: !description.short.isEmpty, lastPushed: activity.lastPushed.map(Display.time) ?? "never",
            lastPulled: activity.lastPulled.map(Display.hour) ?? "not recorded", byNewest: order == .newest, sortByNameHref: home,
            sortByNewestHref: "\(home)?sort=newest")
        return pages.page("repository", view, layout: LayoutView(title: repository.value, visit: visit, crumbs: crumbs(repository)))
    }

    /// The `host:port` clients pull from: the one this page was reached on.
    private func registryAuthority(_ visit: Visit) -> String { visit.authority }

    struct EntryView {
        var mediaType: String
        var digest: String
        var size: String
        var platform: String?
        var href: String?
        var annotations: [KeyValue]
    }

    struct KeyValue {
        var key: String
        var value: String
    }

    struct ManifestView {
        var repository: String
        var digest: String
        var mediaType: String
        var artifactType: String?
        var size: String
        var compressedSize: String
        var pushedAt: String
        var isIndex: Bool
        var tags: [String]
        var hasTags: Bool
        var config: EntryView?
        var layers: [EntryView]
        var children: [EntryView]
        var referrers: [EntryView]
        var hasReferrers: Bool
        var annotations: [KeyValue]
        var hasAnnotations: Bool
        var platform: String?
        var entrypoint: String?
        var cmd: String?
        var workingDir: String?
        var user: String?
        var env: [String]
        var labels: [KeyValue]
        var history: [String]
        var deleteHref: String?
        var hasChildren: Bool
        var hasLayers: Bool
        var hasEnv: Bool
        var hasLabels: Bool
        var hasHistory: Bool
    }

    private func manifestPage(_ visit: Visit, _ repository: RepositoryName, _ reference: Reference) async throws -> Response {
        let detail = try await admin.manifestDetail(visit.caller, repository: repository, reference: reference)
        let overview = detail.overview
        let home = "/repositories/\(Display.pathEscape(repository.value))"
        func entry(_ e: ManifestOverview.Entry, link: Bool) -> EntryView {
            EntryView(
                mediaType: e.mediaType, digest: e.digest.description, size: Display.bytes(e.size), platform: e.platform?.description,
                href: link ? "\(home)/-/manifests/\(e.digest)" : nil, annotations: Self.pairs(e.annotations))
        }
        let config = overview.imageConfig
        let canDelete = try await admin.actions(visit.caller, on: repository).contains(.delete)
        let view = ManifestView(
            repository: repository.value, digest: overview.record.digest.description, mediaType: overview.record.mediaType,
            artifactType: overview.record.artifactType, size: Display.bytes(overview.record.size), compressedSize: Display.bytes(overview.compressedSize),
            pushedAt: Display.time(overview.record.createdAt), isIndex: overview.isIndex, tags: detail.tags.map(\.value).sorted(),
            hasTags: !detail.tags.isEmpty, config: overview.config.map { entry($0, link: false) }, layers: overview.layers.map { entry($0, link: false) },
            children: overview.children.map { entry($0, link: true) },
            referrers: detail.referrers.map {
                EntryView(
                    mediaType: $0.artifactType ?? $0.mediaType, digest: $0.digest.description, size: Display.bytes($0.size), platform: nil,
                    href: "\(home)/-/manifests/\($0.digest)", annotations: Self.pairs($0.annotations))
            },
            hasReferrers: !detail.referrers.isEmpty, annotations: Self.pairs(overview.record.annotations),
            hasAnnotations: !overview.record.annotations.isEmpty, platform: config?.platform?.description,
            entrypoint: config.flatMap { $0.entrypoint.isEmpty ? nil : $0.entrypoint.joined(separator: " ") },
            cmd: config.flatMap { $0.cmd.isEmpty ? nil : $0.cmd.joined(separator: " ") }, workingDir: config?.workingDir, user: config?.user,
            env: config?.env ?? [], labels: Self.pairs(config?.labels ?? [:]), history: config?.history ?? [],
            deleteHref: canDelete ? "\(home)/-/delete?reference=\(Display.queryEscape(overview.record.digest.description))" : nil,
            hasChildren: !overview.children.isEmpty, hasLayers: !overview.layers.isEmpty, hasEnv: !(config?.env.isEmpty ?? true),
            hasLabels: !(config?.labels.isEmpty ?? true), hasHistory: !(config?.history.isEmpty ?? true))
        var crumbs = crumbs(repository)
        crumbs.append(.init(name: repository.value, href: home))
        return pages.page("manifest", view, layout: LayoutView(title: "\(repository.value)@\(Display.shortDigest(view.digest))", visit: visit, crumbs: crumbs))
    }

    static func pairs(_ dictionary: [String: String]) -> [KeyValue] {
        dictionary.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) }
    }

    struct ConfirmDeleteView {
        var repository: String
        var reference: String
        var isTag: Bool
        var digest: String
        var tagsRemoved: [String]
        var tagsKept: [String]
        var hasKept: Bool
        var action: String
        var cancelHref: String
        var csrf: String
    }

    private func confirmDeletePage(_ visit: Visit, _ repository: RepositoryName, _ reference: Reference) async throws -> Response {
        let preview = try await admin.deletionPreview(visit.caller, repository: repository, reference: reference)
        let home = "/repositories/\(Display.pathEscape(repository.value))"
        let view = ConfirmDeleteView(
            repository: repository.value, reference: reference.description, isTag: reference.tag != nil, digest: preview.digest.description,
            tagsRemoved: preview.tagsRemoved.map(\.value).sorted(), tagsKept: preview.tagsKept.map(\.value).sorted(),
            hasKept: !preview.tagsKept.isEmpty, action: "\(home)/-/delete", cancelHref: home, csrf: visit.csrfToken)
        var crumbs = crumbs(repository)
        crumbs.append(.init(name: repository.value, href: home))
        return pages.page("confirm-delete", view, layout: LayoutView(title: "Delete \(reference)", visit: visit, crumbs: crumbs))
    }
}
