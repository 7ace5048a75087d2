public import Foundation
public import KuraCore

/// What a metered registry request did, for billing and reports.
public enum UsageKind: String, Sendable, Hashable, Codable, CaseIterable {
    case manifestPull = "manifest_pull"
    case manifestHead = "manifest_head"
    case manifestPush = "manifest_push"
    case manifestDelete = "manifest_delete"
    case blobPull = "blob_pull"
    case blobHead = "blob_head"
    /// Every request of an upload: POST, PATCH, PUT, status GET and cancel.
    case blobUpload = "blob_upload"
    case blobMount = "blob_mount"
    case blobDelete = "blob_delete"
    case tagList = "tag_list"
    case catalog
    case referrers
}

/// One hourly usage bucket: who used what, where, in which hour.
public struct UsageBucket: Sendable, Hashable {
    /// The start of the hour (UTC).
    public var hour: Date
    /// "" for requests outside any namespace (the catalog).
    public var namespace: String
    /// "" for requests outside any repository.
    public var repository: String
    /// "" for anonymous requests.
    public var accessKeyID: String
    public var kind: UsageKind

    public init(hour: Date, namespace: String, repository: String, accessKeyID: String, kind: UsageKind) {
        self.hour = hour
        self.namespace = namespace
        self.repository = repository
        self.accessKeyID = accessKeyID
        self.kind = kind
    }

    /// The start of the UTC hour holding `date`.
    public static func hourStart(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }
}

/// Calls and bytes counted in a bucket.
public struct UsageCounts: Sendable, Hashable, Codable {
    public var calls: Int64
    public var bytesIn: Int64
    public var bytesOut: Int64

    public init(calls: Int64 = 0, bytesIn: Int64 = 0, bytesOut: Int64 = 0) {
        self.calls = calls
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
    }

    public static func += (lhs: inout UsageCounts, rhs: UsageCounts) {
        lhs.calls += rhs.calls
        lhs.bytesIn += rhs.bytesIn
        lhs.bytesOut += rhs.bytesOut
    }
}

/// How a usage report groups its rows (always also by kind).
public enum UsageGrouping: String, Sendable, Hashable, Codable, CaseIterable {
    case namespace
    case repository
    case key
}

/// Which usage to report: the hours starting in `[from, to)`.
public struct UsageQuery: Sendable, Hashable {
    public var from: Date
    public var to: Date
    /// Only this namespace; `nil` for all.
    public var namespace: String?
    public var grouping: UsageGrouping

    public init(from: Date, to: Date, namespace: String? = nil, grouping: UsageGrouping = .namespace) {
        self.from = from
        self.to = to
        self.namespace = namespace
        self.grouping = grouping
    }
}

/// One row of a usage report. Fields the grouping does not use are `nil`.
public struct UsageRecord: Sendable, Hashable {
    public var namespace: String
    public var repository: String?
    public var accessKeyID: String?
    public var kind: UsageKind
    public var counts: UsageCounts

    public init(namespace: String, repository: String?, accessKeyID: String?, kind: UsageKind, counts: UsageCounts) {
        self.namespace = namespace
        self.repository = repository
        self.accessKeyID = accessKeyID
        self.kind = kind
        self.counts = counts
    }
}

/// Stored bytes of a namespace, from the catalog as it is now.
public struct NamespaceStorage: Sendable, Hashable {
    public var namespace: String
    /// Each distinct blob and manifest of the namespace once (what deduplication stores).
    public var physicalBytes: Int64
    /// Per repository: every blob linked into it and every manifest in it, once per
    /// repository.
    public var repositories: [RepositoryStorage]

    /// The namespace's logical bytes: the sum over its repositories.
    public var logicalBytes: Int64 { repositories.reduce(0) { $0 + $1.logicalBytes } }

    public init(namespace: String, physicalBytes: Int64, repositories: [RepositoryStorage]) {
        self.namespace = namespace
        self.physicalBytes = physicalBytes
        self.repositories = repositories
    }
}

/// Stored bytes of one repository.
public struct RepositoryStorage: Sendable, Hashable {
    public var repository: String
    public var logicalBytes: Int64

    public init(repository: String, logicalBytes: Int64) {
        self.repository = repository
        self.logicalBytes = logicalBytes
    }
}

/// Usage counters in the catalog, in hourly buckets, and stored bytes computed from it.
public protocol UsageStore: Sendable {
    /// Adds `counts` to each bucket (creating it); one transaction.
    func addUsage(_ counts: [UsageBucket: UsageCounts]) async throws
    /// The start of the last hour with a metered manifest pull from each of `repositories`
    /// (those never pulled are left out).
    func lastPulls(of repositories: [RepositoryName]) async throws -> [RepositoryName: Date]
    /// The summed counters of the buckets the query selects, grouped as it says.
    func usage(_ query: UsageQuery) async throws -> [UsageRecord]
    /// Stored bytes per namespace (one namespace, or all), sorted by name.
    func storage(namespace: String?) async throws -> [NamespaceStorage]
    /// Logical stored bytes of each of `repositories` (see ``RepositoryStorage``); those
    /// that do not exist are left out. Only these repositories are summed, not the namespace.
    func logicalBytes(of repositories: [RepositoryName]) async throws -> [RepositoryName: Int64]
    /// Records when manifests were last pulled: a pull by tag marks that tag, a pull by
    /// digest every tag pointing at the digest then. A time only ever moves forward; tags
    /// that do not exist (any more) are skipped.
    func recordPulls(_ pulls: [ManifestPull: Date]) async throws
    /// When each of `tags` of `repository` was last pulled (as ``recordPulls(_:)`` wrote
    /// it); tags never pulled are left out.
    func lastPulls(of tags: [Tag], in repository: RepositoryName) async throws -> [Tag: Date]
    /// Keeps each sample as its namespace's stored bytes on the sample's UTC day, replacing
    /// an earlier sample of that day.
    func recordStorageSamples(_ samples: [StorageSample]) async throws
    /// A namespace's samples of the days starting in `[from, to)`, oldest first.
    func storageSamples(namespace: String, from: Date, to: Date) async throws -> [StorageSample]
    /// Every distinct blob and manifest once across all namespaces.
    func globalPhysicalBytes() async throws -> Int64
    /// Upload sessions not yet completed or cancelled.
    func openUploadCount() async throws -> Int64
}
