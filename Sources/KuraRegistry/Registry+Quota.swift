import KuraCore
import KuraMetadata
import KuraStorage

extension Registry {
    /// Refuses with `DENIED` (403) when storing `digest` (of `size` bytes) in `repository`
    /// would take its namespace over its storage quota. Counted after deduplication: content
    /// the namespace already holds adds nothing, so it is never refused.
    func checkQuota(storing digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        guard let quotas else { return }
        let namespace = String(repository.firstComponent)
        guard let maximum = try await quotas.quota(namespace: namespace) else { return }
        let projected = try await quotas.physicalBytes(namespace: namespace, including: (digest, size))
        guard projected > maximum else { return }
        let current = try await quotas.physicalBytes(namespace: namespace, including: nil)
        guard projected > current else { return }
        throw RegistryError(
            .denied, "storage quota exceeded",
            detail: "namespace \(namespace) stores \(current) bytes; \(digest) (\(size) bytes) would make \(projected), over its quota of \(maximum) bytes")
    }

    /// Whether the namespace of `repository` has a quota (so a check is worth a storage call).
    func hasQuota(_ repository: RepositoryName) async throws -> Bool {
        guard let quotas else { return false }
        return try await quotas.quota(namespace: String(repository.firstComponent)) != nil
    }
}
