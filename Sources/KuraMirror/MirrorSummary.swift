/// Counts of a mirror run, for one repository or all of them. With a dry run, "copied"
/// means "would be copied".
public struct MirrorCounts: Sendable, Codable, Equatable {
    public var manifestsCopied = 0
    public var manifestsSkipped = 0
    public var blobsCopied = 0
    /// Blobs the target linked from another of its repositories instead of receiving them.
    public var blobsMounted = 0
    public var blobsSkipped = 0
    public var bytesCopied: Int64 = 0
    /// Bytes not sent because the target already had them (skipped or mounted blobs).
    public var bytesSkipped: Int64 = 0

    public init() {}

    mutating func add(_ other: MirrorCounts) {
        manifestsCopied += other.manifestsCopied
        manifestsSkipped += other.manifestsSkipped
        blobsCopied += other.blobsCopied
        blobsMounted += other.blobsMounted
        blobsSkipped += other.blobsSkipped
        bytesCopied += other.bytesCopied
        bytesSkipped += other.bytesSkipped
    }
}

/// Something that could not be copied; the run goes on with the rest.
public struct MirrorFailure: Sendable, Codable, Equatable {
    public var repository: String
    /// The tag or digest, or nil when the whole repository failed (listing its tags).
    public var reference: String?
    public var message: String
}

/// The outcome of a run.
public struct MirrorSummary: Sendable, Codable {
    public var source: String
    public var target: String
    public var dryRun: Bool
    public var total: MirrorCounts
    public var repositories: [String: MirrorCounts]
    public var failures: [MirrorFailure]
    public var seconds: Double

    public var succeeded: Bool { failures.isEmpty }
}

/// Progress of a run as it happens.
public enum MirrorEvent: Sendable {
    case repositoryStarted(repository: String, tags: [String])
    case manifestCopied(repository: String, reference: String, digest: String, bytes: Int)
    case manifestSkipped(repository: String, reference: String, digest: String)
    case blobCopied(repository: String, digest: String, bytes: Int64)
    case blobMounted(repository: String, digest: String, from: String)
    case blobSkipped(repository: String, digest: String)
    case failed(MirrorFailure)
    case repositoryFinished(repository: String, counts: MirrorCounts)
}
