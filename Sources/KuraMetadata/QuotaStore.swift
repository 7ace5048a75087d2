public import KuraCore

/// Storage quotas per namespace, and the figure they limit.
public protocol QuotaStore: Sendable {
    /// Sets (or with `nil` removes) a namespace's maximum stored bytes.
    func setQuota(namespace: String, maxBytes: Int64?) async throws
    /// The namespace's maximum stored bytes, or `nil` for no limit.
    func quota(namespace: String) async throws -> Int64?
    /// The namespace's physical stored bytes (each distinct blob and manifest once) as
    /// they would be with `candidate` added: a digest the namespace already holds adds
    /// nothing.
    func physicalBytes(namespace: String, including candidate: (digest: Digest, size: Int64)?) async throws -> Int64
}
