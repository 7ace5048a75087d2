/// Bounds on what one layer may make the scanner do, so a hostile layer (a tar bomb, a
/// decompression bomb) fails the scan instead of exhausting the node.
public struct LayerLimits: Sendable, Equatable {
    /// Bytes after decompression.
    public var maximumUncompressedSize: Int64 = 64 << 30
    /// Bytes in one entry's path (POSIX PATH_MAX is 4096).
    public var maximumPathLength = 4096
    /// Components in one entry's path.
    public var maximumPathDepth = 256
    /// Bytes of one PAX or GNU long-name header's body.
    public var maximumMetadataSize = 1 << 20
    /// The expanded size a sparse entry may declare.
    public var maximumSparseSize: Int64 = 1 << 30
    /// Bytes of one file a detector asks to read whole (a package database, a jar).
    public var maximumFileSize = 256 << 20

    public init() {}
}
