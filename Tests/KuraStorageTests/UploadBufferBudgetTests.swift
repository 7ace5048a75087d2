import Foundation
import KuraCore
@testable import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

/// Concurrent uploads share a bounded amount of part memory: alone a writer gets the
/// backend's preferred part, many at once get smaller ones, and a backend's minimum stands.
@Suite("Upload buffer budget")
struct UploadBufferBudgetTests {
    @Test func partsHalveAsWritersShareTheBudget() {
        let budget = UploadBufferBudget(total: 1 << 20, floor: 128 << 10)
        var leases: [UploadBufferBudget.Lease] = []
        var sizes: [Int] = []
        for _ in 0..<40 {
            let lease = budget.lease(preferred: 512 << 10, minimum: 1)
            leases.append(lease)
            sizes.append(lease.partSize)
        }
        #expect(Array(sizes[0..<2]) == Array(repeating: 512 << 10, count: 2))  // 2 × 512 KiB fit 1 MiB
        #expect(Array(sizes[2..<4]) == Array(repeating: 256 << 10, count: 2))
        #expect(sizes[4..<40].allSatisfy { $0 == 128 << 10 })  // the floor, however many
        #expect(budget.activeWriters == 40)
        leases.removeAll()
        #expect(budget.activeWriters == 0)
        #expect(budget.lease(preferred: 512 << 10, minimum: 1).partSize == 512 << 10)
    }

    /// S3's parts (5 MiB at least) are a protocol matter: the budget leaves them as preferred.
    @Test func aBackendWithALargeMinimumPartKeepsItsPreferredPart() {
        let budget = UploadBufferBudget(total: 1 << 20, floor: 128 << 10)
        let held = (0..<8).map { _ in budget.lease(preferred: 8 << 20, minimum: 5 << 20) }
        #expect(held.allSatisfy { $0.partSize == 8 << 20 })
        #expect(budget.lease(preferred: 64 << 10, minimum: 1).partSize == 64 << 10)  // below the floor: left as preferred
    }

    @Test func aWriterAloneGetsItsPreferredPartEvenAboveTheBudget() {
        let budget = UploadBufferBudget(total: 1 << 20, floor: 128 << 10)
        let alone = budget.lease(preferred: 4 << 20, minimum: 1)
        #expect(alone.partSize == 4 << 20)
        let second = budget.lease(preferred: 4 << 20, minimum: 1)
        #expect(second.partSize == 2 << 20)  // the budget counts as one preferred part, shared by two
    }

    /// Bodies being written hold their share until they end, whether stored or refused.
    @Test func writersHoldTheirShareWhileTheirBodyStreams() async throws {
        try await withTemporaryDirectory { root in
            let store = BlobStore(backend: try FileSystemBackend(root: root), uploadBufferBytes: 64 << 10)
            let contents = (0..<3).map { testBytes(300_000 + $0 * 1_111, seed: UInt64($0 + 7)) }
            var feeds: [AsyncStream<ByteBuffer>.Continuation] = []
            var bodies: [AsyncStream<ByteBuffer>] = []
            for _ in contents {
                let (stream, feed) = AsyncStream<ByteBuffer>.makeStream()
                bodies.append(stream)
                feeds.append(feed)
            }
            try await withThrowingTaskGroup(of: BlobInfo?.self) { group in
                for (index, body) in bodies.enumerated() {
                    // The last one declares the wrong digest: refused, it must still hand its share back.
                    let expected = index == 2 ? sha256(contents[0]) : sha256(contents[index])
                    group.addTask { try? await store.ingest(body, expected: expected) }
                }
                try await Poll.until("three writers holding shares") { store.uploadBuffers.activeWriters == 3 ? true : nil }
                for (content, feed) in zip(contents, feeds) {
                    for start in stride(from: 0, to: content.count, by: 50_000) {
                        feed.yield(ByteBuffer(bytes: content[start..<min(start + 50_000, content.count)]))
                    }
                    feed.finish()
                }
                var stored = 0
                for try await info in group where info != nil { stored += 1 }
                #expect(stored == 2)
            }
            #expect(store.uploadBuffers.activeWriters == 0)
            for content in contents.prefix(2) {
                #expect(try await collect(store.read(sha256(content)).body) == content)
            }
            #expect(try await store.stat(sha256(contents[2])) == nil)
        }
    }
}
