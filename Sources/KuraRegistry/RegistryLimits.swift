/// Limits the registry enforces on what clients send.
public struct RegistryLimits: Sendable, Hashable, Codable {
    /// The largest manifest accepted on PUT (the spec suggests at least 4 MiB).
    public var maxManifestBytes: Int
    /// The largest blob accepted; `nil` for no limit.
    public var maxBlobBytes: Int64?
    /// The most entries returned by one page of tags or catalog.
    public var maxPageSize: Int

    public init(maxManifestBytes: Int = 4 << 20, maxBlobBytes: Int64? = nil, maxPageSize: Int = 10_000) {
        self.maxManifestBytes = maxManifestBytes
        self.maxBlobBytes = maxBlobBytes
        self.maxPageSize = maxPageSize
    }
}
