import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import KuraStorage
import KuraTestSupport
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// Blob bodies sent by the kernel from their files (`sendfile`) on plain HTTP/1.1
/// connections, and streamed through the server where bytes must pass through user space
/// (TLS, HTTP/2). The server here is a listener exactly as `kura serve` builds one
/// (`ListenerChannels`), with one route whose streamed alternative records whether it was
/// read: a body that arrives whole while that stream was never touched came from the file.
@Suite("HTTP: blob bodies sent from files")
struct FileSendTests {
    /// 9 MiB and 5 bytes: three regions of ``FileRegionSender``, the last one short.
    static let content = testBytes((9 << 20) + 5, seed: 77)

    @Test func plainHTTPSendsTheFileWholeAndByRangeWithoutStreaming() async throws {
        try await withFileServer(tls: false) { server in
            let (port, streamed) = (server.port, server.streamed)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/file")
            let whole = try await Self.get(request)
            #expect(whole == Self.content)
            request.url = "http://127.0.0.1:\(port)/file?from=4194000&to=8388700"
            let part = try await Self.get(request)
            #expect(part == Array(Self.content[4_194_000..<8_388_700]))
            #expect(streamed.count == 0, "the bytes went out from the file, not through the stream")
        }
    }

    /// Requests sent back to back on one connection (pipelining): each file goes out after
    /// its own head and before the next response's, so the bodies arrive whole and in order.
    @Test func pipelinedRequestsGetTheirOwnBytesInOrder() async throws {
        try await withFileServer(tls: false) { server in
            let (port, streamed) = (server.port, server.streamed)
            try await RawHTTPConnection.with(port: port, timeout: .seconds(60)) { connection in
                try await connection.sendHead("GET", "/file?from=0&to=10", headers: [])
                try await connection.sendHead("GET", "/file", headers: [])
                try await connection.sendHead("GET", "/file?from=5000000&to=5000003", headers: [])
                let first = try await connection.readResponse()
                let second = try await connection.readResponse()
                let third = try await connection.readResponse()
                #expect(first.status == 200 && first.body == Array(Self.content[0..<10]))
                #expect(second.status == 200 && second.body == Self.content)
                #expect(third.status == 200 && third.body == Array(Self.content[5_000_000..<5_000_003]))
            }
            #expect(streamed.count == 0)
        }
    }

    /// A client that leaves mid-body: the server fails the send, closes the file it
    /// duplicated, and keeps serving.
    @Test func aClientLeavingMidBodyLeavesTheServerServing() async throws {
        try await withFileServer(tls: false) { server in
            let port = server.port
            for _ in 0..<3 {
                try await RawHTTPConnection.with(port: port) { connection in
                    try await connection.sendHead("GET", "/file", headers: [])
                    let status = try await connection.readStatus()
                    #expect(status == 200)
                }
            }
            let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/file")
            let whole = try await Self.get(request)
            #expect(whole == Self.content)
            // Every descriptor of the file (the one duplicated for sending, closed before the
            // body's write returns, and the read's own, let go with the response just after)
            // is closed once the four responses are done. Only this test opens this file.
            var finished = server.finishedResponses.makeAsyncIterator()
            for _ in 0..<4 { _ = await finished.next() }
            let deadline = ContinuousClock.now + .seconds(30)
            var open = openDescriptors(of: server.path)
            while open > 0, ContinuousClock.now < deadline {
                await Task.yield()
                open = openDescriptors(of: server.path)
            }
            #expect(open == 0, "\(open) descriptors of the file still open")
        }
    }

    /// Over TLS the bytes must be encrypted in user space: the body streams, over HTTP/1.1
    /// and HTTP/2 alike.
    @Test func tlsStreamsTheBodyOverHTTP1AndHTTP2() async throws {
        try await withFileServer(tls: true) { server in
            let (port, streamed) = (server.port, server.streamed)
            let certificate = try #require(server.certificatePath)
            try await withTLSClient(trusting: [certificate]) { client in
                let request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/file")
                let whole = try await Self.get(request, client: client)
                #expect(whole == Self.content)
            }
            try await withTLSClient(trusting: [certificate], http1Only: true) { client in
                var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/file?from=3&to=4194310")
                request.method = .GET
                let part = try await Self.get(request, client: client)
                #expect(part == Array(Self.content[3..<4_194_310]))
            }
            #expect(streamed.count == 2)
        }
    }

    // MARK: support

    private static func get(_ request: HTTPClientRequest, client: HTTPClient = .shared) async throws -> [UInt8] {
        let response = try await client.execute(request, timeout: .seconds(60))
        #expect(response.status == .ok)
        return Array(try await response.body.collect(upTo: 32 << 20).readableBytesView)
    }
}

/// A running listener of ``withFileServer(tls:_:)``.
private struct FileServer: Sendable {
    let port: Int
    /// Counts the responses that read the streamed alternative.
    let streamed: StreamCount
    /// The file the route answers from.
    let path: String
    /// The certificate the client must trust (TLS only).
    let certificatePath: String?
    /// One element each time a response's body is done (sent, or failed with its client).
    let finishedResponses: AsyncStream<Void>
}

/// Runs one listener built as `kura serve` builds it, plain or TLS, with a route `/file`
/// answering `content` (or `?from=&to=` of it) from a file on a ``FileSystemBackend``, hands
/// it to `body`, and shuts it down.
private func withFileServer(tls: Bool, _ body: @Sendable (FileServer) async throws -> Void) async throws {
    try await withTemporaryDirectory { dir in
        let backend = try FileSystemBackend(root: "\(dir)/store")
        let key = try ObjectKey("file")
        _ = try await backend.put(key, bytes: ByteBuffer(bytes: FileSendTests.content))
        let streamed = StreamCount()
        let (finishedResponses, finished) = AsyncStream<Void>.makeStream()
        let router = Router(context: KuraRequestContext.self)
        router.get("file") { request, context -> Response in
            let from = request.uri.queryParameters.get("from", as: Int64.self)
            let to = request.uri.queryParameters.get("to", as: Int64.self)
            let read = try await backend.get(key, range: from.flatMap { from in to.map { from..<$0 } })
            let file = try #require(read.file, "a filesystem read offers its file")
            let sent = ResponseBody.sendingFile(file, orStreaming: RecordingBody(base: read.body, streamed: streamed), on: context.channel)
            return Response(
                status: .ok, headers: [.contentLength: String(read.range.count)],
                body: ResponseBody { writer in
                    defer { finished.yield() }
                    try await sent.write(writer)
                })
        }
        var listener = ListenerConfiguration(name: "files", host: "127.0.0.1", port: 0)
        var store: TLSCertificateStore?
        if tls {
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(dir)/tls/server.crt", keyPath: "\(dir)/tls/server.key")
            _ = try SelfSignedCertificate.generate(
                hosts: ["localhost", "127.0.0.1"], certificatePath: files.certificatePath, keyPath: files.keyPath, commonName: "kura file test")
            listener.tls = files
            store = try TLSCertificateStore(files: files)
        }
        var logger = Logger(label: "kura-test")
        logger.logLevel = .critical
        let (ports, bound) = AsyncStream<Int?>.makeStream()
        let application = Application(
            router: router, server: ListenerChannels.serverBuilder(for: listener, certificate: store, logger: logger),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.yield(channel.localAddress?.port) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A server that stops (or never starts) ends the wait for its port.
                defer { bound.finish() }
                try await group.run()
            }
            defer { tasks.cancelAll() }
            var waiting = ports.makeAsyncIterator()
            let port = try #require(await waiting.next() ?? nil, "the listener did not start")
            let server = FileServer(
                port: port, streamed: streamed, path: backend.path(of: key), certificatePath: listener.tls?.certificatePath,
                finishedResponses: finishedResponses)
            do {
                try await body(server)
                await group.triggerGracefulShutdown()
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }
}

/// This process's open descriptors of the file at `path`.
private func openDescriptors(of path: String) -> Int {
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return descriptors.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }.count
}

/// Counts the responses whose streamed body was read.
private final class StreamCount: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add() { value.withLock { $0 += 1 } }
}

/// A body that counts in `streamed` when it is first read.
private struct RecordingBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: ObjectBody
    let streamed: StreamCount

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: ObjectBody.AsyncIterator
        let streamed: StreamCount
        var counted = false

        mutating func next() async throws -> ByteBuffer? {
            if !counted {
                counted = true
                streamed.add()
            }
            return try await base.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), streamed: streamed) }
}
