import KuraCore
import KuraStorage
import NIOCore
import Testing

@testable import KuraMirror

/// The pull-through fill's promise that no client gets a whole blob before the store has
/// verified it: the store hashes the bytes, and the tee in front of it withholds the buffer
/// that completes the blob from the fill's readers until the store says the blob checked out.
@Suite("fill tee")
struct FillTeeTests {
    static let digest = Digest(algorithm: .sha256, rawBytes: [UInt8](repeating: 0xab, count: 32))

    static func pieces(_ sizes: [Int]) -> AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            for (index, size) in sizes.enumerated() { continuation.yield(ByteBuffer(repeating: UInt8(index), count: size)) }
            continuation.finish()
        }
    }

    /// A fill of `sizes.reduce(0, +)` bytes with one reader; the tee read to its end, as the
    /// store reads it. Returns the fill, the reader's stream and what the store got.
    static func teeThrough(_ sizes: [Int]) async throws -> (BlobFill, AsyncThrowingStream<ByteBuffer, any Error>, [Int]) {
        let fill = BlobFill(window: 1 << 20, stallTimeout: .seconds(60), gauge: FillMemoryGauge())
        let size = Int64(sizes.reduce(0, +))
        await fill.started(size: size)
        let (announced, stream) = try #require(await fill.subscribe())
        #expect(announced == size)
        var stored: [Int] = []
        for try await buffer in FillTee(base: pieces(sizes), fill: fill, size: size, digest: digest) { stored.append(buffer.readableBytes) }
        return (fill, stream, stored)
    }

    struct StoreRefused: Error {}

    @Test func aBlobTheStoreRefusedNeverReachesReadersWhole() async throws {
        let (fill, stream, stored) = try await Self.teeThrough([4, 4, 4])
        #expect(stored == [4, 4, 4], "the store gets every byte")
        await fill.finish(.failure(StoreRefused()))
        var read: [Int] = []
        await #expect(throws: StoreRefused.self) {
            for try await buffer in stream { read.append(buffer.readableBytes) }
        }
        #expect(read == [4, 4], "readers got everything but the buffer that completes the blob")
    }

    @Test func aVerifiedBlobReachesReadersWholeWhateverKeepingItComesTo() async throws {
        // An empty buffer after the last one (a source may send one) changes nothing.
        let (fill, stream, _) = try await Self.teeThrough([4, 4, 4, 0])
        await fill.release()
        // The bytes checked out: readers end at the last one, even if keeping the blob (its
        // fdatasync, its link) fails afterwards. A reader that waited for that would throw.
        await fill.finish(.failure(StoreRefused()))
        var read: [Int] = []
        for try await buffer in stream { read.append(buffer.readableBytes) }
        #expect(read == [4, 4, 4])
    }

    @Test func bytesPastTheDeclaredSizeFailTheTee() async throws {
        let fill = BlobFill(window: 1 << 20, stallTimeout: .seconds(60), gauge: FillMemoryGauge())
        await fill.started(size: 8)
        var stored = 0
        await #expect(throws: DigestVerificationError.sizeMismatch(digest: Self.digest, expected: 8, actual: 12)) {
            for try await buffer in FillTee(base: Self.pieces([4, 4, 4]), fill: fill, size: 8, digest: Self.digest) {
                stored += buffer.readableBytes
            }
        }
        #expect(stored == 8, "nothing past the declared size reaches the store")
    }
}
