import Foundation
import KuraServerTestSupport
import NIOCore
import NIOPosix
import Synchronization

/// HTTP/1.1 spoken by hand over one TCP connection, to see what a server sends between a
/// request's head and its body (`100 Continue`) and to count every byte the client sent.
/// The connection is closed at a deadline, so a server that waits for a body fails the test
/// instead of hanging it.
struct RawHTTPConnection {
    /// A response head (and its body, when it has a `Content-Length`).
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending: [UInt8] = []
    /// Whether the server closed the connection.
    private(set) var closedByServer = false
    /// Every byte written to the socket.
    private(set) var bytesSent = 0

    /// Set when the deadline closed the connection.
    private final class Deadline: Sendable {
        private let state = Mutex(false)
        var passed: Bool { state.withLock { $0 } }
        func pass() { state.withLock { $0 = true } }
    }
    private let deadline: Deadline

    /// Connects to 127.0.0.1:`port`, runs `body`, and closes the connection; closes it
    /// earlier, failing the reads, after `timeout`.
    static func with<T: Sendable>(
        port: Int, timeout: TimeAmount = .seconds(20), _ body: (inout RawHTTPConnection) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let deadline = Deadline()
        let scheduled = channel.channel.eventLoop.scheduleTask(in: timeout) { [channel = channel.channel] in
            deadline.pass()
            channel.close(promise: nil)
        }
        defer { scheduled.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawHTTPConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound, deadline: deadline)
            return try await body(&connection)
        }
    }

    private init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, deadline: Deadline
    ) {
        self.inbound = inbound
        self.outbound = outbound
        self.deadline = deadline
    }

    mutating func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
        bytesSent += bytes.count
    }

    mutating func sendHead(_ method: String, _ target: String, headers: [(String, String)]) async throws {
        let lines = ["\(method) \(target) HTTP/1.1", "Host: 127.0.0.1"] + headers.map { "\($0.0): \($0.1)" }
        try await send(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8))
    }

    /// The next response (interim or final), within `timeout`.
    mutating func readResponse() async throws -> Response {
        while true {
            if let end = Self.headEnd(pending) {
                let head = String(decoding: pending[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
                let parts = head[0].split(separator: " ")
                guard parts.count >= 2, let status = Int(parts[1]) else { throw Timeout(description: "bad status line: \(head[0])") }
                let headers = head.dropFirst().compactMap { line -> (String, String)? in
                    guard let colon = line.firstIndex(of: ":") else { return nil }
                    return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                var response = Response(status: status, headers: headers, body: [])
                let length = (100..<200).contains(status) ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
                while pending.count < end + 4 + length { try await receive() }
                response.body = Array(pending[(end + 4)..<(end + 4 + length)])
                pending.removeFirst(end + 4 + length)
                return response
            }
            try await receive()
        }
    }

    /// The status of the next response, leaving its body unread.
    mutating func readStatus() async throws -> Int {
        while Self.headEnd(pending) == nil { try await receive() }
        let line = String(decoding: pending.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        guard line.count >= 2, let status = Int(line[1]) else { throw Timeout(description: "bad status line") }
        return status
    }

    /// Whether the server closes the connection, with nothing more sent, before the deadline.
    mutating func serverCloses() async throws -> Bool {
        while !closedByServer {
            do { try await receive() } catch is Timeout { return false }
        }
        return pending.isEmpty
    }

    private mutating func receive() async throws {
        if closedByServer { throw Timeout(description: "the server closed the connection") }
        guard let chunk = try await inbound.next() else {
            if deadline.passed { throw Timeout(description: "no answer within the deadline") }
            closedByServer = true
            return
        }
        pending.append(contentsOf: chunk.readableBytesView)
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}
