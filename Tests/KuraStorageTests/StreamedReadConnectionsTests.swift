import Foundation
import KuraCore
import KuraTestSupport
import NIOCore
import NIOHTTP1
import Testing

@testable import KuraStorage

/// The connections of ``StreamedReadConnections``: kept and reused between whole reads on a real
/// SeaweedFS, never reused after a read let go mid-body, and, against a peer that misbehaves
/// on purpose (``ScriptedPeer``), a kept connection closed by the server is replaced without
/// failing the read, `Connection: close` is obeyed, and a stalled body fails instead of hanging.
@Suite("streamed read connections", .timeLimit(.minutes(3)))
struct StreamedReadConnectionsTests {
    @Test func wholeReadsOneAfterAnotherShareOneConnection() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend()
        let key = try ObjectKey("connections/shared")
        let bytes = testBytes(3 << 20 + 5, seed: 21)
        try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
        for _ in 0..<5 {
            #expect(try await collect(backend.get(key, range: nil).body) == bytes)
        }
        #expect(backend.client.reads.openedCount == 1)
    }

    @Test func aReadLetGoMidBodyIsNotReusedAndTheNextReadIsWhole() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend()
        let key = try ObjectKey("connections/abandoned")
        let bytes = testBytes(16 << 20, seed: 22)
        try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
        do {
            var iterator = try await backend.get(key, range: nil).body.makeAsyncIterator()
            _ = try await iterator.next()
        }
        #expect(try await collect(backend.get(key, range: nil).body) == bytes)
        #expect(backend.client.reads.openedCount == 2, "the half-read connection was reused")
        #expect(try await collect(backend.get(key, range: nil).body) == bytes)
        #expect(backend.client.reads.openedCount == 2, "a whole read's connection was not kept")
    }

    @Test func aKeptConnectionTheServerClosedIsReplacedWithoutFailingTheRead() async throws {
        // The first connection answers once, then closes on the next request without answering.
        let peer = try await ScriptedPeer { connection, request in
            connection == 0 && request == 1 ? .close : .respond(body: "c\(connection)r\(request)")
        }
        defer { peer.stop() }
        let reads = StreamedReadConnections(host: "127.0.0.1", port: peer.port, tls: nil)
        #expect(try await read(reads, "/a") == "c0r0")
        #expect(try await read(reads, "/b") == "c1r0")
        #expect(reads.openedCount == 2)
        #expect(peer.requests == ["GET /a", "GET /b", "GET /b"])
    }

    @Test func aResponseWithConnectionCloseIsNotReused() async throws {
        let peer = try await ScriptedPeer { connection, request in
            .respond(body: "c\(connection)r\(request)", close: true)
        }
        defer { peer.stop() }
        let reads = StreamedReadConnections(host: "127.0.0.1", port: peer.port, tls: nil)
        #expect(try await read(reads, "/a") == "c0r0")
        #expect(try await read(reads, "/b") == "c1r0")
        #expect(reads.openedCount == 2)
    }

    @Test func aBodyThatStallsFailsAfterTheReadTimeout() async throws {
        let peer = try await ScriptedPeer { _, _ in .stall(declared: 10, sent: "abc") }
        defer { peer.stop() }
        let reads = StreamedReadConnections(host: "127.0.0.1", port: peer.port, tls: nil, readTimeout: .milliseconds(300))
        // On a loaded machine the head itself may come later than the timeout: that fails the same way.
        await #expect(throws: StreamedReadError.readTimeout) {
            try await Self.readAll(reads.open(Self.get("/a"), readAhead: 1 << 20, deadline: .now() + .seconds(60)))
        }
    }

    @Test func aTransferPastItsDeadlineFails() async throws {
        let peer = try await ScriptedPeer { _, _ in .stall(declared: 10, sent: "abc") }
        defer { peer.stop() }
        let reads = StreamedReadConnections(host: "127.0.0.1", port: peer.port, tls: nil)
        await #expect(throws: StreamedReadError.deadlineExceeded) {
            try await Self.readAll(reads.open(Self.get("/a"), readAhead: 1 << 20, deadline: .now() + .milliseconds(300)))
        }
    }

    /// Reads a response to its end, which a stalled body never reaches.
    static func readAll(_ response: StreamedResponse) async throws {
        #expect(response.status == .ok)
        var received = ""
        while let buffer = try await response.stream.next() { received += String(buffer: buffer) }
        Issue.record("a stalled body ended: \(received)")
    }

    static func get(_ path: String) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: ["host": "127.0.0.1"])
    }

    private func read(_ reads: StreamedReadConnections, _ path: String) async throws -> String {
        let response = try await reads.open(Self.get(path), readAhead: 1 << 20, deadline: .now() + .seconds(30))
        return String(buffer: try await response.stream.collect(upTo: 1 << 20))
    }
}
