/// A streaming decompressor: compressed bytes in, any number of output chunks out.
protocol Decompressor {
    /// Decompresses `input`, passing each produced chunk to `output` (valid only during the call).
    mutating func decompress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws
    /// Checks that the stream ended where the format says it ends.
    mutating func finish() throws
}

/// Uncompressed tar: bytes pass through.
struct PassThroughDecompressor: Decompressor {
    mutating func decompress(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !input.isEmpty { try output(input) }
    }

    mutating func finish() throws {}
}

/// How a layer is compressed, told by its first bytes (media types are not always right:
/// Docker's `tar.gzip` and OCI's `tar+gzip` name the same thing, and some tools lie).
public enum LayerCompression: String, Sendable {
    case gzip, zstd, none

    public init(sniffing prefix: some Collection<UInt8>) {
        let bytes = Array(prefix.prefix(4))
        if bytes.starts(with: [0x1F, 0x8B]) {
            self = .gzip
        } else if bytes == [0x28, 0xB5, 0x2F, 0xFD] {
            self = .zstd
        } else {
            self = .none
        }
    }

    func makeDecompressor() throws -> any Decompressor {
        switch self {
        case .gzip: try GzipDecompressor()
        case .zstd: try ZstdDecompressor()
        case .none: PassThroughDecompressor()
        }
    }
}
