import Foundation
import Glibc
@testable import KuraStorage
import NIOCore
import Testing

/// The filesystem's range reader reuses a small ring of buffers for the chunks it hands
/// out, and never writes over a chunk that someone still holds.
@Suite("Range reader")
struct RangeReaderTests {
    static let chunkSize = 4096

    /// A reader over `bytes` written to a file under `root`, from `range` (all by default).
    func reader(_ bytes: [UInt8], in root: String, range: Range<Int64>? = nil) throws -> RangeReader {
        let path = "\(root)/object"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        return RangeReader(
            file: OwnedDescriptor(fd), path: path, range: range ?? 0..<Int64(bytes.count), chunkSize: Self.chunkSize,
            allocator: ByteBufferAllocator())
    }

    @Test func chunksLetGoAtOnceAreReadIntoTheRingAlone() async throws {
        try await withTemporaryDirectory { root in
            let bytes = testBytes(20 * Self.chunkSize + 123, seed: 7)
            let reader = try reader(bytes, in: root)
            var read: [UInt8] = []
            var chunks = 0
            while let chunk = try await reader.next() {
                read += chunk.readableBytesView
                chunks += 1
            }
            #expect(read == bytes)
            #expect(chunks == 21)
            // One buffer per slot: no chunk was still held when the ring came round to it.
            #expect(reader.allocations == RangeReader.ringSize, "allocated \(reader.allocations) buffers for \(chunks) chunks")
        }
    }

    @Test func chunksStillHeldAreNeverWrittenOver() async throws {
        try await withTemporaryDirectory { root in
            let bytes = testBytes(10 * Self.chunkSize + 5, seed: 8)
            let range: Range<Int64> = 1000..<Int64(bytes.count - 7)
            let reader = try reader(bytes, in: root, range: range)
            var held: [ByteBuffer] = []
            while let chunk = try await reader.next() { held.append(chunk) }
            #expect(held.flatMap { Array($0.readableBytesView) } == Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
            #expect(held.dropLast().allSatisfy { $0.readableBytes == Self.chunkSize })
            // Every chunk needed storage of its own, and was given it rather than shared.
            #expect(reader.allocations == held.count)
        }
    }

    @Test func aShortRangeAllocatesOnlyWhatItReads() async throws {
        try await withTemporaryDirectory { root in
            let reader = try reader(testBytes(3 * Self.chunkSize, seed: 9), in: root, range: 10..<20)
            let chunk = try #require(try await reader.next())
            #expect(chunk.readableBytes == 10 && chunk.capacity < Self.chunkSize)
            #expect(try await reader.next() == nil)
            #expect(reader.allocations == 1)
        }
    }
}
