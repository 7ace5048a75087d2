public import Foundation
public import KuraCore
public import KuraMetadata
public import KuraRegistry

/// Browsing and deleting from the console: the same permission rules as `/v2/` (pull to
/// read, delete to delete), with an admin reading everything like the admin API does.
extension AccessAdmin {
    /// A namespace as the console lists it.
    public struct NamespaceSummary: Sendable {
        public var record: NamespaceRecord
        public var repositoryCount: Int
        public var physicalBytes: Int64
        public var logicalBytes: Int64
        public var quotaBytes: Int64?
        public var role: Role?
    }

    /// A repository as the namespace page lists it.
    public struct RepositorySummary: Sendable {
        public var name: RepositoryName
        public var shortDescription: String
        /// Counted up to ``tagCountLimit``; more shows as "limit+".
        public var tagCount: Int
        public var logicalBytes: Int64
        /// When a tag was last pushed; `nil` without tags.
        public var lastPushed: Date?
        /// The start of the last hour with a metered manifest pull; `nil` if none is recorded.
        public var lastPulled: Date?
    }

    public static let tagCountLimit = 1000

    /// One row of a repository's tags table.
    public struct TagRow: Sendable {
        public var tag: Tag
        public var overview: ManifestOverview
        /// When the tag was last pointed (pushed).
        public var pushedAt: Date
        /// When the tag was last pulled, by tag or by the digest it pointed at then (as the
        /// usage meter's last flush wrote it); `nil` if never.
        public var lastPulled: Date?
    }

    /// A page of a listing and where the next one starts.
    public struct Page<Item: Sendable>: Sendable {
        public var items: [Item]
        public var next: String?
    }

    /// A manifest with what points at it.
    public struct ManifestDetail: Sendable {
        public var overview: ManifestOverview
        public var tags: [Tag]
        public var referrers: [ManifestRecord]
    }

    /// What deleting a tag or a manifest removes: the manifest, and the tags that go with it
    /// (a manifest deleted by digest takes every tag pointing at it).
    public struct DeletionPreview: Sendable {
        public var digest: Digest
        public var tagsRemoved: [Tag]
        /// Tags that keep pointing at the manifest (a tag deleted alone).
        public var tagsKept: [Tag]
    }

    // MARK: reading

    /// Whether the caller may read `namespace` (public, a grant, or an admin).
    public func canRead(_ caller: Caller, namespace: String) async throws -> Bool {
        if caller.principal.isAdmin { return true }
        let isPublic = try await store.namespace(named: namespace)?.isPublic ?? false
        return caller.principal.grantedActions(in: namespace, isPublic: isPublic).contains(.pull)
    }

    /// What the caller may do to a repository (an admin reads everything, and manages like
    /// a manager only where its grants say so).
    public func actions(_ caller: Caller, on repository: RepositoryName) async throws -> Set<RegistryAction> {
        var actions = try await access.allowedActions(caller.principal, on: repository)
        if caller.principal.isAdmin { actions.insert(.pull) }
        return actions
    }

    private func requireRead(_ caller: Caller, namespace: String) async throws {
        guard try await canRead(caller, namespace: namespace) else {
            // Not found rather than denied, so private names do not leak.
            throw AdminError.notFound("namespace \(namespace) does not exist or is not visible to you")
        }
    }

    /// The namespaces the caller sees, with their repository counts and stored bytes.
    public func namespaceSummaries(_ caller: Caller) async throws -> [NamespaceSummary] {
        let visible = try await namespaces(caller)
        let counts = try await registry.catalog.metadata.repositoryCounts(inNamespaces: visible.map(\.name))
        var stored: [String: NamespaceStorage] = [:]
        if caller.principal.isAdmin {
            // An admin sees every namespace: one pass over the catalog.
            for namespace in (try? await registry.catalog.usage.storage(namespace: nil)) ?? [] { stored[namespace.namespace] = namespace }
        } else {
            // Only the namespaces shown are summed, not every namespace of the registry.
            for record in visible {
                if let namespace = try? await registry.catalog.usage.storage(namespace: record.name).first { stored[record.name] = namespace }
            }
        }
        var result: [NamespaceSummary] = []
        for record in visible {
            let bytes = stored[record.name]
            result.append(
                NamespaceSummary(
                    record: record, repositoryCount: counts[record.name] ?? 0,
                    physicalBytes: bytes?.physicalBytes ?? 0, logicalBytes: bytes?.logicalBytes ?? 0,
                    quotaBytes: try? await registry.catalog.quotas.quota(namespace: record.name),
                    role: caller.principal.isRoot ? .manager : caller.principal.role(in: record.name)))
        }
        return result
    }

    /// A page of a namespace's repositories whose names contain `filter` (names are lower
    /// case, so the filter is too), after `after`. Each column is one query over just the
    /// page's repositories, whatever the namespace holds.
    public func repositoryPage(_ caller: Caller, namespace: String, filter: String?, after: String?, limit: Int) async throws
        -> Page<RepositorySummary>
    {
        try Self.validateNamespace(namespace)
        try await requireRead(caller, namespace: namespace)
        guard try await store.namespace(named: namespace) != nil else { throw AdminError.notFound("namespace \(namespace) does not exist") }
        let catalog = registry.catalog
        let fetched = try await catalog.metadata.repositories(
            inNamespace: namespace, containing: (filter ?? "").lowercased(), after: after, limit: max(0, limit) + 1)
        let page = Array(fetched.prefix(max(0, limit)))
        let tagCounts = try await catalog.metadata.tagCounts(of: page, cappedAt: Self.tagCountLimit + 1)
        let sizes = try await catalog.usage.logicalBytes(of: page)
        let descriptions = try await store.shortDescriptions(of: page.map(\.value))
        let pushes = try await catalog.retention.lastPushes(of: page)
        let pulls = try await catalog.usage.lastPulls(of: page)
        let items = page.map { name in
            RepositorySummary(
                name: name, shortDescription: descriptions[name.value] ?? "", tagCount: tagCounts[name] ?? 0,
                logicalBytes: sizes[name] ?? 0, lastPushed: pushes[name], lastPulled: pulls[name])
        }
        return Page(items: items, next: fetched.count > page.count ? page.last?.value : nil)
    }

    /// A page of a repository's tags with their manifests, by name or newest first; `after`
    /// is the previous page's `next` (a tag name, or ``TagPosition/token`` when newest first).
    public func tagPage(_ caller: Caller, repository: RepositoryName, order: TagOrder = .name, after: String?, limit: Int) async throws
        -> Page<TagRow>
    {
        try await requireRead(caller, namespace: String(repository.firstComponent))
        guard try await registry.catalog.metadata.repositoryExists(repository) else { throw RegistryError(.nameUnknown, detail: repository.value) }
        var position: TagPosition?
        if let after {
            switch order {
            case .name: position = TagPosition(tag: after, updatedAt: Date(timeIntervalSince1970: 0))
            case .newest:
                guard let parsed = TagPosition(token: after) else { throw AdminError.invalid("the page cursor \(after.debugDescription) is not valid") }
                position = parsed
            }
        }
        let records = try await registry.catalog.retention.tagRecords(in: repository, order: order, after: position, limit: limit + 1)
        var rows: [TagRow] = []
        // Tags often share a manifest (v1, v1.2, latest): each is read once per page.
        var overviews: [Digest: ManifestOverview] = [:]
        for record in records.prefix(limit) {
            if overviews[record.digest] == nil {
                overviews[record.digest] = try? await registry.manifestOverview(.digest(record.digest), in: repository)
            }
            // A manifest deleted between the listing and this read is left out.
            guard let overview = overviews[record.digest] else { continue }
            rows.append(TagRow(tag: record.tag, overview: overview, pushedAt: record.updatedAt))
        }
        let pulls = try await registry.catalog.usage.lastPulls(of: rows.map(\.tag), in: repository)
        for index in rows.indices { rows[index].lastPulled = pulls[rows[index].tag] }
        var next: String?
        if limit > 0, records.count > limit {
            let last = records[limit - 1]
            next = order == .name ? last.tag.value : TagPosition(tag: last.tag.value, updatedAt: last.updatedAt).token
        }
        return Page(items: rows, next: next)
    }

    /// When a repository last had a tag pushed and (hour precision, from usage metering) a
    /// manifest pulled.
    public func activity(_ caller: Caller, repository: RepositoryName) async throws -> (lastPushed: Date?, lastPulled: Date?) {
        try await requireRead(caller, namespace: String(repository.firstComponent))
        return (
            try await registry.catalog.retention.lastPushes(of: [repository])[repository],
            try await registry.catalog.usage.lastPulls(of: [repository])[repository]
        )
    }

    /// A manifest by tag or digest, with its tags and referrers.
    public func manifestDetail(_ caller: Caller, repository: RepositoryName, reference: Reference) async throws -> ManifestDetail {
        try await requireRead(caller, namespace: String(repository.firstComponent))
        let overview = try await registry.manifestOverview(reference, in: repository)
        return ManifestDetail(
            overview: overview, tags: try await registry.catalog.metadata.tags(pointingTo: overview.record.digest, in: repository),
            referrers: try await registry.catalog.metadata.referrers(of: overview.record.digest, in: repository, artifactType: nil))
    }

    // MARK: deleting

    private func requireDelete(_ caller: Caller, _ repository: RepositoryName) async throws {
        guard try await access.allowedActions(caller.principal, on: repository).contains(.delete) else {
            throw AdminError.denied("deleting from \(repository) needs the manager role on \(repository.firstComponent)")
        }
    }

    /// What deleting `reference` would remove, for the confirmation.
    public func deletionPreview(_ caller: Caller, repository: RepositoryName, reference: Reference) async throws -> DeletionPreview {
        try await requireDelete(caller, repository)
        let record = try await registry.manifestRecord(reference, in: repository)
        let tags = try await registry.catalog.metadata.tags(pointingTo: record.digest, in: repository)
        switch reference {
        case .tag(let tag): return DeletionPreview(digest: record.digest, tagsRemoved: [tag], tagsKept: tags.filter { $0 != tag })
        case .digest: return DeletionPreview(digest: record.digest, tagsRemoved: tags, tagsKept: [])
        }
    }

    /// Deletes a tag, or a manifest and its tags, attributed to the caller in the audit log.
    @discardableResult
    public func delete(_ caller: Caller, repository: RepositoryName, reference: Reference) async throws -> Digest {
        try await requireDelete(caller, repository)
        let actor = RegistryEvent.Actor(
            account: caller.principal.accountName, accessKeyID: caller.principal.keyID, sourceAddress: caller.sourceAddress)
        return try await RegistryEvents.withActor(actor) { try await registry.deleteManifest(reference, in: repository) }
    }
}
