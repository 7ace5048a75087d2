import Hummingbird
import KuraHTTP
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("HTTP: blob bodies written from the connection's event loop")
struct StreamingResponseBodyTests {
    @Test func everyWriteAndTheFinishRunOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let chunks = (0..<16).map { ByteBuffer(repeating: UInt8($0), count: 1000 + $0) }
        let record = WriteRecord()
        // Each chunk arrives from a task on the global pool, as the file reader's do, so the
        // body's task is resumed from off the loop between writes.
        try await ResponseBody.streaming(ChunksFromThePool(chunks: chunks), writingOn: loop)
            .write(RecordingWriter(loop: loop, record: record))
        let seen = record.state.withLock { $0 }
        #expect(seen.bytes == chunks.reduce(into: ByteBuffer()) { $0.writeImmutableBuffer($1) })
        #expect(seen.writesOnLoop == chunks.count)
        #expect(seen.writesElsewhere == 0)
        #expect(seen.finishedOnLoop == true)
        try await group.shutdownGracefully()
    }

    @Test func aFailingSequenceFailsTheBody() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let record = WriteRecord()
        await #expect(throws: ChunksFromThePool.Broken.self) {
            try await ResponseBody.streaming(ChunksFromThePool(chunks: [ByteBuffer(string: "a")], failAfter: 1), writingOn: group.next())
                .write(RecordingWriter(loop: group.next(), record: record))
        }
        #expect(record.state.withLock { $0.finishedOnLoop } == nil, "a failed body is not finished")
        try await group.shutdownGracefully()
    }
}

private struct ChunksFromThePool: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    struct Broken: Error {}
    let chunks: [ByteBuffer]
    var failAfter: Int?

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: [ByteBuffer]
        let failAfter: Int?
        var index = 0

        mutating func next() async throws -> ByteBuffer? {
            if index == failAfter { throw Broken() }
            guard index < chunks.count else { return nil }
            let chunk = chunks[index]
            index += 1
            return await Task.detached { chunk }.value
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks, failAfter: failAfter) }
}

private final class WriteRecord: Sendable {
    struct State {
        var bytes = ByteBuffer()
        var writesOnLoop = 0
        var writesElsewhere = 0
        var finishedOnLoop: Bool?
    }
    let state = Mutex(State())
}

private struct RecordingWriter: ResponseBodyWriter {
    let loop: any EventLoop
    let record: WriteRecord

    func write(_ buffer: ByteBuffer) async throws {
        let onLoop = loop.inEventLoop
        record.state.withLock {
            $0.bytes.writeImmutableBuffer(buffer)
            if onLoop { $0.writesOnLoop += 1 } else { $0.writesElsewhere += 1 }
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        let onLoop = loop.inEventLoop
        record.state.withLock { $0.finishedOnLoop = onLoop }
    }
}
