public import Foundation
public import KuraCore

/// Where a digest stands with garbage collection.
public enum BlobCollectionState: Int, Sendable, Hashable, Codable {
    /// Stored and known to the catalog.
    case live = 0
    /// GC removed its catalog rows and is deleting the object now.
    case collecting = 1
    /// GC deleted (or may have deleted) the object. Linking it again is allowed, but a
    /// writer must then check that the object exists and call
    /// ``GarbageCollectionStore/reviveCollectedBlob(_:)``; until then no manifest may refer
    /// to it.
    case collected = 2
}

/// A digest the catalog knows, with the size recorded for it.
public struct CatalogBlob: Sendable, Hashable {
    public var digest: Digest
    public var size: Int64

    public init(digest: Digest, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// A manifest GC may delete: untagged under a policy, or a referrer whose subject is gone.
public struct ManifestCandidate: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable, Codable {
        case untagged
        case orphanedReferrer
    }

    /// Opaque position of the row, for paging and for the conditional delete.
    public var rowID: Int64
    public var repository: RepositoryName
    public var digest: Digest
    public var size: Int64
    public var reason: Reason

    public init(rowID: Int64, repository: RepositoryName, digest: Digest, size: Int64, reason: Reason) {
        self.rowID = rowID
        self.repository = repository
        self.digest = digest
        self.size = size
        self.reason = reason
    }
}

/// A manifest reference that does not resolve inside the catalog.
public struct DanglingReference: Sendable, Hashable, Codable {
    public var repository: String
    public var manifest: String
    public var child: String
    public var kind: String

    public init(repository: String, manifest: String, child: String, kind: String) {
        self.repository = repository
        self.manifest = manifest
        self.child = child
        self.kind = kind
    }
}

/// One recorded run of a job (gc, scrub, retention).
public struct JobRunRecord: Sendable, Hashable {
    public var id: Int64
    public var kind: String
    public var owner: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var dryRun: Bool
    /// The job's summary, as JSON.
    public var summary: String?
    public var error: String?

    public init(
        id: Int64, kind: String, owner: String, startedAt: Date, finishedAt: Date?, dryRun: Bool, summary: String?,
        error: String?
    ) {
        self.id = id
        self.kind = kind
        self.owner = owner
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.dryRun = dryRun
        self.summary = summary
        self.error = error
    }
}

/// What garbage collection, scrub and the job runner need from the catalog, beside
/// ``MetadataStore``.
///
/// ## The protocol with writers
///
/// A blob is garbage when no manifest in any repository refers to it, it is not itself a
/// manifest stored in some repository, and it was last linked (in any repository, even one
/// since deleted) before the grace-period cutoff. GC takes it in three steps:
///
/// 1. ``beginCollecting(_:linkedBefore:)`` re-checks those conditions and, in the same
///    transaction, deletes the blob's links and marks it ``BlobCollectionState/collecting``;
/// 2. GC deletes the object;
/// 3. ``finishCollecting(_:failed:)`` marks it ``BlobCollectionState/collected``.
///
/// The store refuses (an error for which ``isCollectionConflict(_:)`` is true) to link a
/// blob while it is `collecting`, and to store a manifest that refers to a blob that is
/// `collecting` or `collected`. A writer that links a blob and then finds it `collected`
/// (it deduplicated against the object just before GC deleted it) checks the object:
/// present → ``reviveCollectedBlob(_:)``; absent → the writer unlinks and fails, and the
/// client uploads again. Because every catalog write is a serialised transaction, a push
/// either commits before step 1 (GC then sees a young link or a reference and keeps the
/// blob) or after it (and is refused or re-checks storage): no manifest ever commits
/// pointing at a deleted object.
public protocol GarbageCollectionStore: Sendable {
    // MARK: job lock and runs

    /// Takes or renews the lease `name` for `owner` until now + `ttl`. Returns false when
    /// another owner holds an unexpired lease.
    func acquireJobLock(_ name: String, owner: String, ttl: TimeInterval) async throws -> Bool

    func releaseJobLock(_ name: String, owner: String) async throws

    func startJobRun(kind: String, owner: String, dryRun: Bool) async throws -> Int64

    func finishJobRun(_ id: Int64, summary: String?, error: String?) async throws

    /// The newest runs first, optionally of one kind.
    func jobRuns(kind: String?, limit: Int) async throws -> [JobRunRecord]

    // MARK: housekeeping

    /// Recovers from a run that died between steps 1 and 3 (`collecting` → `collected`),
    /// and forgets collected digests and deleted-manifest markers older than `before`.
    func recoverAndPurge(forgetBefore before: Date) async throws

    // MARK: manifests

    /// Untagged manifests created before `createdBefore`, that no manifest of their
    /// repository refers to (index children) and that are not the subject of a tagged
    /// referrer. Rows after `afterRowID`, in row order, at most `limit`.
    func untaggedManifests(afterRowID: Int64, createdBefore: Date, limit: Int) async throws -> [ManifestCandidate]

    /// The manifest `digest` of `repository` if it is, now, what ``untaggedManifests(afterRowID:createdBefore:limit:)``
    /// would list at any age (retention deletes the manifests whose last tag it removed).
    func untaggedManifest(_ digest: Digest, in repository: RepositoryName) async throws -> ManifestCandidate?

    /// Untagged referrers whose subject is not in their repository, created before
    /// `createdBefore` and not an index child.
    func orphanedReferrers(afterRowID: Int64, createdBefore: Date, limit: Int) async throws -> [ManifestCandidate]

    /// Deletes the candidate if it still qualifies, in one transaction, and remembers the
    /// deletion so that an index PUT validated before it cannot commit after it.
    func deleteManifestCandidate(_ candidate: ManifestCandidate, createdBefore: Date) async throws -> Bool

    // MARK: blobs

    /// Number and total size of the live digests the catalog knows.
    func catalogBlobTotals() async throws -> (count: Int, bytes: Int64)

    /// Garbage digests after `after`, in digest order, at most `limit`.
    func garbageBlobs(after: Digest?, linkedBefore: Date, limit: Int) async throws -> [CatalogBlob]

    /// Step 1: of `digests`, those still garbage lose their links and become `collecting`.
    func beginCollecting(_ digests: [Digest], linkedBefore: Date) async throws -> [CatalogBlob]

    /// Step 1 for objects the catalog holds no live row for (crash debris: stored, never
    /// linked, or linked and collected since): of `objects`, those with no row, or a
    /// `collected` one, become `collecting` in one transaction, so a writer deduplicating
    /// against one of them meets the same protocol as for any collected blob. Live and
    /// `collecting` digests are left alone, and so is a `collected` one that a manifest row, a
    /// link or a reference names: a writer stored it again and will revive it. Returns the digests taken; step 3 is
    /// ``finishCollecting(_:failed:)`` as for any other.
    func beginCollectingUnlinked(_ objects: [CatalogBlob]) async throws -> [Digest]

    /// Step 3 for the objects deleted; the others (`failed`) go back to `live`, to be
    /// tried again by the next run.
    func finishCollecting(_ deleted: [Digest], failed: [Digest]) async throws

    func collectionState(_ digest: Digest) async throws -> BlobCollectionState?

    /// `collected` → `live` after a writer checked the object exists. Returns whether the
    /// digest is now live.
    func reviveCollectedBlob(_ digest: Digest) async throws -> Bool

    /// Is this error the store refusing a write because of collection (see above)?
    func isCollectionConflict(_ error: any Error) -> Bool

    // MARK: scrub

    /// Live digests after `after`, in digest order.
    func liveBlobs(after: Digest?, limit: Int) async throws -> [CatalogBlob]

    /// Which of `digests` are live in the catalog.
    func liveDigests(among digests: [Digest]) async throws -> Set<Digest>

    /// Manifest references that do not resolve: a blob the catalog does not hold live
    /// (which includes external, non-distributable layers), or a child manifest missing
    /// from the repository. At most `limit`.
    func danglingReferences(limit: Int) async throws -> [DanglingReference]

    /// Whether any repository stores `digest` as a manifest.
    func isManifest(_ digest: Digest) async throws -> Bool

    /// A blob whose object is corrupt or missing: its links go and it becomes `collected`,
    /// so clients upload it again. Returns false if it is a manifest (left alone).
    func forgetLostBlob(_ digest: Digest) async throws -> Bool

    // MARK: dry runs

    /// A private copy of the catalog as it is now, which a dry run changes freely: it makes
    /// the real run's manifest deletions there and counts the garbage they leave, so it
    /// reports what the real run would free. The copy goes away with the returned value.
    func scratchCopy() async throws -> any GarbageCollectionStore

    // MARK: uploads

    /// Upload sessions the catalog has recorded, created before `before`.
    func uploadRecords(createdBefore before: Date, limit: Int) async throws -> [UploadRecord]
}
