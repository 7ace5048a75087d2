public import Foundation
public import KuraCore

/// Something the registry did, emitted by the operation itself (not by the route that asked
/// for it) to every sink registered at start: the audit log, webhooks, replication, and
/// whoever comes next. GC and retention deletions are events too.
public struct RegistryEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A manifest stored (by tag or digest).
        case manifestPush
        /// A manifest deleted with its tags (by digest).
        case manifestDelete
        /// A tag deleted (the manifest stays).
        case tagDelete
        /// A blob unlinked from a repository.
        case blobDelete
        /// A blob of another repository linked without an upload.
        case blobMount
        /// A manifest read (GET).
        case manifestPull
        /// A tag deleted by a retention policy.
        case retentionTagDelete
        /// An untagged manifest (or orphaned referrer) deleted by garbage collection.
        case collectedManifestDelete
        /// A maintenance job (gc, retention) finished.
        case jobRun
        /// An image manifest was scanned (``summary`` counts findings by severity, or
        /// ``detail`` says why the scan failed).
        case scanCompleted
    }

    /// Who asked: the account and access key of the request, `nil` for the registry's own
    /// jobs (then ``job`` says which).
    public struct Actor: Sendable, Hashable {
        public var account: String?
        public var accessKeyID: String?
        public var sourceAddress: String?

        public init(account: String?, accessKeyID: String?, sourceAddress: String?) {
            self.account = account
            self.accessKeyID = accessKeyID
            self.sourceAddress = sourceAddress
        }
    }

    public var kind: Kind
    public var time: Date
    public var repository: RepositoryName?
    /// The reference as the client wrote it (tag or digest), or the deleted tag.
    public var reference: String?
    public var digest: Digest?
    public var actor: Actor?
    /// The job that acted (`gc`, `retention`), for job events and job deletions.
    public var job: String?
    /// A job's figures (`blobsFreed`, …), or other detail (`policy`, `source`).
    public var summary: [String: Int64]
    public var detail: String?

    public init(
        _ kind: Kind, repository: RepositoryName? = nil, reference: String? = nil, digest: Digest? = nil, actor: Actor? = RegistryEvents.actor,
        job: String? = nil, summary: [String: Int64] = [:], detail: String? = nil, time: Date = Date()
    ) {
        self.kind = kind
        self.time = time
        self.repository = repository
        self.reference = reference
        self.digest = digest
        self.actor = actor
        self.job = job
        self.summary = summary
        self.detail = detail
    }

    /// The repository's namespace.
    public var namespace: String? { repository.map { String($0.firstComponent) } }
}
