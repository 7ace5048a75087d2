public import KuraCore

/// Storage quotas per namespace, and the figure they limit.
///
/// The quota is enforced where content is linked: ``linkBlobWithinQuota(_:size:in:)`` and
/// ``putManifestWithinQuota(_:references:in:tag:)`` read the quota, count the namespace's
/// bytes and write the row in one catalog write transaction, so pushes racing each other
/// (in one process, or in several processes or nodes sharing the catalog) are serialised by
/// the catalog and cannot together pass the quota. SQLite takes its write lock when the
/// transaction begins (`BEGIN IMMEDIATE`), which covers every process that opens the same
/// file; a catalog shared over the network (PostgreSQL) must do the same in one transaction,
/// e.g. by locking the namespace's quota row (`SELECT … FOR UPDATE`) before counting.
public protocol QuotaStore: Sendable {
    /// Sets (or with `nil` removes) a namespace's maximum stored bytes.
    func setQuota(namespace: String, maxBytes: Int64?) async throws
    /// The namespace's maximum stored bytes, or `nil` for no limit.
    func quota(namespace: String) async throws -> Int64?
    /// The namespace's physical stored bytes (each distinct blob and manifest once) as
    /// they would be with `candidate` added: a digest the namespace already holds adds
    /// nothing.
    func physicalBytes(namespace: String, including candidate: (digest: Digest, size: Int64)?) async throws -> Int64

    /// Links a blob as ``MetadataStore/linkBlob(_:size:in:)`` does, unless the namespace of
    /// `repository` would then store more than its quota: then throws ``QuotaExceeded`` and
    /// changes nothing. Checked and written in one transaction (see above).
    func linkBlobWithinQuota(_ digest: Digest, size: Int64, in repository: RepositoryName) async throws

    /// The end of an upload in one transaction (one catalog round trip per committed blob):
    /// links as ``linkBlobWithinQuota(_:size:in:)`` does, deletes the upload session's row
    /// `upload`, and returns the blob's collection state as the link left it (see
    /// ``GarbageCollectionStore/collectionState(_:)``). On ``QuotaExceeded`` or a collection
    /// conflict nothing changes, the session's row included.
    func linkUploadedBlobWithinQuota(_ digest: Digest, size: Int64, in repository: RepositoryName, endingUpload upload: String)
        async throws -> BlobCollectionState?

    /// Stores a manifest as ``MetadataStore/putManifest(_:references:in:tag:)`` does, unless
    /// the namespace of `repository` would then store more than its quota: then throws
    /// ``QuotaExceeded`` and changes nothing. Checked and written in one transaction.
    func putManifestWithinQuota(
        _ manifest: ManifestRecord, references: [ManifestReference], in repository: RepositoryName, tag: Tag?
    ) async throws
}

/// Content refused because its namespace would store more bytes than its quota allows.
public struct QuotaExceeded: Error, Sendable, Equatable {
    public var namespace: String
    /// The namespace's physical stored bytes now.
    public var storedBytes: Int64
    /// What they would be with the refused content.
    public var projectedBytes: Int64
    public var maxBytes: Int64

    public init(namespace: String, storedBytes: Int64, projectedBytes: Int64, maxBytes: Int64) {
        self.namespace = namespace
        self.storedBytes = storedBytes
        self.projectedBytes = projectedBytes
        self.maxBytes = maxBytes
    }
}
