import KuraCore
import KuraMetadata
import KuraStorage

// Namespace storage quotas. The rule is enforced when content is linked: the catalog reads
// the quota, counts the namespace's bytes and writes the link (or manifest) in one write
// transaction (see ``QuotaStore``), so pushes arriving together cannot all pass it. The
// checks made before any byte is stored are early refusals that spare the upload; they
// decide nothing on their own.
extension Registry {
    /// The storage quota of the namespace of `repository`, or `nil` for none.
    func quotaLimit(for repository: RepositoryName) async throws -> Int64? {
        try await catalog.quotas.quota(namespace: String(repository.firstComponent))
    }

    /// Refuses with `DENIED` (403) when storing `digest` (of `size` bytes) in `repository`
    /// would take its namespace over its storage quota as it stands now. Counted after
    /// deduplication: content the namespace already holds adds nothing, so it is never refused.
    func checkQuota(storing digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        guard let limit = try await quotaLimit(for: repository) else { return }
        try await checkQuota(storing: digest, size: size, in: repository, limit: limit)
    }

    /// As above, with the namespace's quota already read.
    func checkQuota(storing digest: Digest, size: Int64, in repository: RepositoryName, limit: Int64) async throws {
        let namespace = String(repository.firstComponent)
        let projected = try await catalog.quotas.physicalBytes(namespace: namespace, including: (digest, size))
        guard projected > limit else { return }
        let current = try await catalog.quotas.physicalBytes(namespace: namespace, including: nil)
        guard projected > current else { return }
        throw Self.quotaRefusal(
            QuotaExceeded(namespace: namespace, storedBytes: current, projectedBytes: projected, maxBytes: limit), storing: digest, size: size)
    }

    /// Links a blob into the repository within its namespace's quota (`DENIED` when over).
    func linkBlobWithinQuota(_ digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        try await refusingOverQuota(digest, size: size) {
            try await catalog.quotas.linkBlobWithinQuota(digest, size: size, in: repository)
        }
    }

    /// ``linkBlobWithinQuota(_:size:in:)`` that also ends the upload session's catalog row;
    /// returns the blob's collection state.
    func linkUploadedBlobWithinQuota(_ digest: Digest, size: Int64, in repository: RepositoryName, endingUpload upload: UploadID)
        async throws -> BlobCollectionState?
    {
        try await refusingOverQuota(digest, size: size) {
            try await catalog.quotas.linkUploadedBlobWithinQuota(digest, size: size, in: repository, endingUpload: upload.value)
        }
    }

    /// Stores a manifest's catalog record within its namespace's quota (`DENIED` when over).
    func putManifestWithinQuota(
        _ record: ManifestRecord, references: [ManifestReference], in repository: RepositoryName, tag: Tag?
    ) async throws {
        try await refusingOverQuota(record.digest, size: record.size) {
            try await catalog.quotas.putManifestWithinQuota(record, references: references, in: repository, tag: tag)
        }
    }

    /// Runs a catalog write that enforces the quota, turning its ``QuotaExceeded`` into `DENIED`.
    private func refusingOverQuota<T>(_ digest: Digest, size: Int64, _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let exceeded as QuotaExceeded {
            throw Self.quotaRefusal(exceeded, storing: digest, size: size)
        }
    }

    private static func quotaRefusal(_ exceeded: QuotaExceeded, storing digest: Digest, size: Int64) -> RegistryError {
        RegistryError(
            .denied, "storage quota exceeded",
            detail: "namespace \(exceeded.namespace) stores \(exceeded.storedBytes) bytes; \(digest) (\(size) bytes) would make "
                + "\(exceeded.projectedBytes), over its quota of \(exceeded.maxBytes) bytes")
    }
}
