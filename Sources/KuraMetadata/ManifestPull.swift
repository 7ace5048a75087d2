public import KuraCore

/// A manifest pulled from a repository by tag or digest: the key under which the usage
/// meter keeps the time of the last pull until its next flush (see
/// ``UsageStore/recordPulls(_:)``).
public struct ManifestPull: Sendable, Hashable {
    public var repository: RepositoryName
    public var reference: Reference

    public init(repository: RepositoryName, reference: Reference) {
        self.repository = repository
        self.reference = reference
    }
}
