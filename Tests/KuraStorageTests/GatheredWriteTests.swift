import Foundation
@testable import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

/// `pwritevAll` puts buffers one after another in a file, as a filesystem part gathered from
/// a connection's reads is written.
@Suite("A gathered write")
struct GatheredWriteTests {
    /// Writes `buffers` at `offset` into a new file of `prefix` and returns the file's bytes.
    private func written(_ buffers: [ByteBuffer], at offset: Int64, after prefix: [UInt8] = []) async throws -> [UInt8] {
        try await withTemporaryDirectory { root in
            let path = "\(root)/part"
            try #require(FileManager.default.createFile(atPath: path, contents: Data(prefix)))
            let fd = try POSIXFile.open(path, O_WRONLY)
            defer { POSIXFile.close(fd) }
            try POSIXFile.pwritevAll(fd, buffers, at: offset, path: path)
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    @Test func slicesAndEmptyBuffersLandInOrderAtTheOffset() async throws {
        var source = ByteBuffer(bytes: testBytes(300_000, seed: 3))
        source.moveReaderIndex(forwardBy: 17)  // a read the decoder has already taken from
        let first = source.getSlice(at: source.readerIndex, length: 100_000)!
        let second = source.getSlice(at: source.readerIndex + 100_000, length: 150_000)!
        let buffers = [ByteBuffer(), first, ByteBuffer(), second, ByteBuffer(bytes: [9, 9, 9]), ByteBuffer()]
        let expected = Array(testBytes(300_000, seed: 3)[17..<250_017]) + [9, 9, 9]
        let prefix = [UInt8](repeating: 1, count: 4096)
        let bytes = try await written(buffers, at: 4096, after: prefix)
        #expect(bytes.count == 4096 + expected.count)
        #expect(Array(bytes.prefix(4096)) == prefix)  // what was there before the offset stays
        #expect(Array(bytes.dropFirst(4096)) == expected)
    }

    @Test func moreBuffersThanOneCallTakesAreAllWritten() async throws {
        // 3,000 buffers of 1–7 bytes: three calls of at most 1,024 vectors each.
        let pieces = (0..<3000).map { index in ByteBuffer(bytes: [UInt8](repeating: UInt8(index % 251), count: 1 + index % 7)) }
        let expected = pieces.flatMap { Array($0.readableBytesView) }
        #expect(try await written(pieces, at: 0) == expected)
    }

    @Test func noBuffersAndOnlyEmptyOnesWriteNothing() async throws {
        #expect(try await written([], at: 0, after: [5]) == [5])
        #expect(try await written([ByteBuffer(), ByteBuffer()], at: 1, after: [5]) == [5])
    }
}
