public import Foundation
public import KuraCore

/// Which tags a namespace or repository keeps. A tag is kept if it matches `keepPattern`
/// or is among the `keepLast` most recently pushed; any other tag goes when it is older
/// than `deleteOlderThan` (or at once, if only `keepLast` is set).
public struct RetentionPolicy: Sendable, Hashable, Codable {
    /// A namespace (`team`) or a repository (`team/app`).
    public var scope: String
    public var keepLast: Int?
    /// A regular expression matched against the whole tag.
    public var keepPattern: String?
    public var deleteOlderThan: TimeInterval?

    public init(scope: String, keepLast: Int? = nil, keepPattern: String? = nil, deleteOlderThan: TimeInterval? = nil) {
        self.scope = scope
        self.keepLast = keepLast
        self.keepPattern = keepPattern
        self.deleteOlderThan = deleteOlderThan
    }
}

/// A tag with the time it was last pointed (pushed).
public struct TagRecord: Sendable, Hashable {
    public var tag: Tag
    public var digest: Digest
    public var updatedAt: Date

    public init(tag: Tag, digest: Digest, updatedAt: Date) {
        self.tag = tag
        self.digest = digest
        self.updatedAt = updatedAt
    }
}

/// Retention policies in the catalog.
public protocol RetentionStore: Sendable {
    func setRetentionPolicy(_ policy: RetentionPolicy) async throws
    @discardableResult func removeRetentionPolicy(scope: String) async throws -> Bool
    func retentionPolicies() async throws -> [RetentionPolicy]
    /// Every tag of a repository with its push time, newest first.
    func tagRecords(in repository: RepositoryName) async throws -> [TagRecord]
    /// A page of a repository's tags with their push times, in `order`, after `after`.
    func tagRecords(in repository: RepositoryName, order: TagOrder, after: TagPosition?, limit: Int) async throws -> [TagRecord]
    /// When each of `repositories` last had a tag pushed; those without tags are left out.
    func lastPushes(of repositories: [RepositoryName]) async throws -> [RepositoryName: Date]
}
