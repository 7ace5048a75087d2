/// What a mirror run copies, and how.
public struct MirrorOptions: Sendable {
    /// Repositories named one by one.
    public var repositories: [String]
    /// Every repository of the source's catalog whose name starts with this (e.g. `team/`).
    public var prefix: String?
    public var tags: TagFilter
    /// Platforms to keep from indexes; empty keeps every platform and copies indexes byte for byte.
    public var platforms: [PlatformSpecifier]
    /// Whether referrers (signatures, SBOMs, attestations) are copied with their subjects.
    public var copyReferrers: Bool
    /// Blob transfers (and repositories) in flight at once.
    public var parallelism: Int
    /// Total bytes per second over all transfers; nil for no limit.
    public var bytesPerSecond: Int?
    /// Only look: count what would be copied, write nothing.
    public var dryRun: Bool
    /// The target repository of a source repository (the same name unless set).
    public var targetRepository: @Sendable (String) -> String

    public init(
        repositories: [String] = [], prefix: String? = nil, tags: TagFilter = .all, platforms: [PlatformSpecifier] = [],
        copyReferrers: Bool = true, parallelism: Int = 4, bytesPerSecond: Int? = nil, dryRun: Bool = false,
        targetRepository: @escaping @Sendable (String) -> String = { $0 }
    ) {
        self.repositories = repositories
        self.prefix = prefix
        self.tags = tags
        self.platforms = platforms
        self.copyReferrers = copyReferrers
        self.parallelism = Swift.max(1, parallelism)
        self.bytesPerSecond = bytesPerSecond
        self.dryRun = dryRun
        self.targetRepository = targetRepository
    }
}
