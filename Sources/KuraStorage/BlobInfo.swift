public import KuraCore

/// A verified blob: its digest and size.
public struct BlobInfo: Sendable, Hashable, Codable {
    public var digest: Digest
    public var size: Int64

    public init(digest: Digest, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// A ranged read of a blob.
public struct BlobRead: Sendable {
    /// The blob's total size.
    public var size: Int64
    /// The bytes being sent.
    public var range: Range<Int64>
    public var body: ObjectBody
    /// The same bytes as a range of an open local file (see ``ObjectRead/file``), or `nil`.
    public var file: OpenFileRange?
}
