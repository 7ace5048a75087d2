public import KuraCore

extension PullThroughCache {
    /// A page of the tags of a repository in a proxy namespace (`after`, `limit` as for
    /// ``Registry/tags(in:after:limit:)``): the upstream's tags merged with the cached ones,
    /// or the cached ones alone when the upstream does not answer. Nil outside proxy
    /// namespaces. Throws `NAME_UNKNOWN` when neither side has the repository.
    public func tags(in repository: RepositoryName, after: String?, limit: Int?) async throws -> [Tag]? {
        guard let upstream = upstreams[String(repository.firstComponent)] else { return nil }
        let remote: [String]
        do {
            remote = try await upstream.checker.tags(upstream.settings.upstreamRepository(repository.value))
        } catch {
            logger.warning("upstream unreachable; listing the cached tags", metadata: ["repository": "\(repository)", "error": "\(error)"])
            return try await registry.tags(in: repository, after: after, limit: limit)
        }
        var merged = Set(remote.compactMap { try? Tag(parsing: $0) })
        do {
            merged.formUnion(try await allCachedTags(in: repository))
        } catch let error as RegistryError where error.code == .nameUnknown && !merged.isEmpty {
            // Nothing cached yet: the upstream's tags alone. (With none there either, unknown.)
        }
        let count = Swift.min(limit ?? registry.limits.maxPageSize, registry.limits.maxPageSize)
        return Array(merged.sorted().drop { tag in after.map { tag.value <= $0 } ?? false }.prefix(Swift.max(0, count)))
    }

    private func allCachedTags(in repository: RepositoryName) async throws -> [Tag] {
        let pageSize = registry.limits.maxPageSize
        var tags: [Tag] = []
        while true {
            let page = try await registry.tags(in: repository, after: tags.last?.value, limit: pageSize)
            tags += page
            if page.count < pageSize { return tags }
        }
    }
}
