import NIOCore

/// Reads one layer blob as it streams: sniffs the compression, decompresses chunk by
/// chunk and parses the tar, keeping only what the collector asks for. Nothing is written
/// to disk and no more than one chunk plus the requested files is held in memory.
struct LayerReader {
    let limits: LayerLimits

    struct Result {
        var contents: LayerContents
        var compression: LayerCompression
        var compressedBytes: Int64
        var uncompressedBytes: Int64
    }

    func read<Body: AsyncSequence>(_ body: Body, collector: LayerFileCollector) async throws -> Result where Body.Element == ByteBuffer {
        var collector = collector
        var tar = TarReader(limits: limits)
        var decompressor: (any Decompressor)?
        var compression = LayerCompression.none
        var head: [UInt8] = []
        var compressedBytes: Int64 = 0

        func push(_ bytes: UnsafeRawBufferPointer, into decompressor: inout any Decompressor) throws {
            try decompressor.decompress(bytes) { output in try tar.feed(output, visitor: &collector) }
        }

        for try await buffer in body {
            compressedBytes += Int64(buffer.readableBytes)
            if var active = decompressor {
                try buffer.withUnsafeReadableBytes { try push($0, into: &active) }
                decompressor = active
                continue
            }
            // The first four bytes decide the compression.
            head.append(contentsOf: buffer.readableBytesView)
            if head.count >= 4 {
                compression = LayerCompression(sniffing: head)
                var active = try compression.makeDecompressor()
                try head.withUnsafeBytes { try push($0, into: &active) }
                decompressor = active
                head = []
            }
        }
        if decompressor == nil {
            compression = LayerCompression(sniffing: head)
            var active = try compression.makeDecompressor()
            try head.withUnsafeBytes { try push($0, into: &active) }
            decompressor = active
        }
        // First the compression: a truncated stream also leaves the tar mid-entry, and the
        // compression error says why.
        if var active = decompressor { try active.finish() }
        try tar.finish()
        return Result(contents: collector.contents, compression: compression, compressedBytes: compressedBytes, uncompressedBytes: tar.totalBytes)
    }
}
