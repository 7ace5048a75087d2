import Foundation
import KuraCore
import KuraTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import KuraStorage

/// Streamed reads from a real SeaweedFS through ``StreamedBody``: the connection reads ahead
/// of the reader up to a bound, and every byte arrives, for sizes and ranges around the bound.
@Suite("S3 read-ahead on SeaweedFS", .timeLimit(.minutes(3)))
struct S3ReadAheadTests {
    @Test func aReaderThatPausesFindsAtMostTheReadAheadQueuedAndThenEveryByte() async throws {
        let (backend, configuration) = try await SeaweedFS.makeBackend()
        let key = try ObjectKey("readahead/paused")
        let bytes = testBytes(5 << 20 + 7, seed: 3)
        try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
        let readAhead = 1 << 20
        let call = S3Client.Call(method: .GET, key: configuration.keyPrefix + key.value)
        let response = try await backend.client.openStream("GetObject", call, accept: [], readAhead: readAhead)
        var received: [UInt8] = []
        let first = try #require(try await response.stream.next())
        received.append(contentsOf: first.readableBytesView)
        // The reader pauses: the connection goes on reading until the bound, then stops.
        _ = try? await Poll.until("the connection to read ahead", timeout: .seconds(20), interval: .milliseconds(2)) {
            response.stream.queuedBytes >= readAhead ? true : nil
        }
        let queued = response.stream.queuedBytes
        #expect(queued >= readAhead, "the connection did not read ahead: \(queued) bytes queued")
        // One read of the socket may land past the bound, never more.
        #expect(queued < readAhead + StreamedReadConnections.maximumRead, "\(queued) bytes queued, bound \(readAhead)")
        while let buffer = try await response.stream.next() { received.append(contentsOf: buffer.readableBytesView) }
        #expect(received == bytes)
    }

    @Test func piecesArrivingAfterThePauseWaitForTheSameResume() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let stream = StreamedBody(readAhead: 8)
        // One socket read may hold several pieces: the ones after the pause must wait too,
        // and every wait must end when the reader catches up.
        let first = try #require(stream.receive(ByteBuffer(bytes: Array(repeating: 1, count: 8)), on: loop))
        let second = try #require(stream.receive(ByteBuffer(bytes: Array(repeating: 2, count: 8)), on: loop))
        #expect(stream.queuedBytes == 16)
        var taken: [UInt8] = []
        while stream.queuedBytes > 0, let buffer = try await stream.next() { taken += buffer.readableBytesView }
        try await first.get()
        try await second.get()
        #expect(taken == Array(repeating: 1, count: 8) + Array(repeating: 2, count: 8))
    }

    @Test func wholeAndRangedReadsAroundTheReadAheadBoundAreExact() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend()
        let bound = S3Backend.readAheadBytes
        for (index, size) in [bound - 1, bound, bound + 1, 3 * bound + 4099].enumerated() {
            let key = try ObjectKey("readahead/size-\(size)")
            let bytes = testBytes(size, seed: UInt64(10 + index))
            try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
            #expect(try await collect(backend.get(key, range: nil).body) == bytes, "size \(size)")
            for range in [0..<1, (size - 1)..<size, 1000..<(size - 1000), (bound - 1)..<min(size, bound + 2)] where !range.isEmpty {
                let read = try await backend.get(key, range: Int64(range.lowerBound)..<Int64(range.upperBound))
                #expect(read.size == Int64(size))
                #expect(try await collect(read.body) == Array(bytes[range]), "size \(size), range \(range)")
            }
        }
    }

    @Test func aReaderThatLetsGoEarlyLeavesLaterReadsWhole() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend()
        let key = try ObjectKey("readahead/abandoned")
        let bytes = testBytes(4 << 20, seed: 5)
        try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
        for _ in 0..<20 {
            var iterator = try await backend.get(key, range: nil).body.makeAsyncIterator()
            _ = try await iterator.next()
        }
        #expect(try await collect(backend.get(key, range: nil).body) == bytes)
    }
}
