import KuraCore
import KuraMetadata
import KuraStorage

extension Registry {
    /// The storage quota of the namespace of `repository`, or `nil` for none.
    func quotaLimit(for repository: RepositoryName) async throws -> Int64? {
        guard let quotas else { return nil }
        return try await quotas.quota(namespace: String(repository.firstComponent))
    }

    /// Refuses with `DENIED` (403) when storing `digest` (of `size` bytes) in `repository`
    /// would take its namespace over its storage quota. Counted after deduplication: content
    /// the namespace already holds adds nothing, so it is never refused.
    func checkQuota(storing digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        guard let limit = try await quotaLimit(for: repository) else { return }
        try await checkQuota(storing: digest, size: size, in: repository, limit: limit)
    }

    /// As above, with the namespace's quota already read.
    func checkQuota(storing digest: Digest, size: Int64, in repository: RepositoryName, limit: Int64) async throws {
        guard let quotas else { return }
        let namespace = String(repository.firstComponent)
        let projected = try await quotas.physicalBytes(namespace: namespace, including: (digest, size))
        guard projected > limit else { return }
        let current = try await quotas.physicalBytes(namespace: namespace, including: nil)
        guard projected > current else { return }
        throw RegistryError(
            .denied, "storage quota exceeded",
            detail: "namespace \(namespace) stores \(current) bytes; \(digest) (\(size) bytes) would make \(projected), over its quota of \(limit) bytes")
    }
}
