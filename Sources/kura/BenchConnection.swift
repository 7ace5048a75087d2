import Foundation
import KuraHTTP
import NIOCore
import NIOPosix
import NIOSSL

/// One HTTP/1.1 connection spoken by hand, for the benchmarks: requests go out as written,
/// response bodies are counted without being copied or decoded, and nothing hops between
/// executors: the connection's task runs on its channel's event loop (``EventLoopExecutor``).
/// A general client (AsyncHTTPClient) spent more time than the server on a fast loopback, so
/// it measured itself.
struct BenchConnection {
    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        /// The body, when the caller asked to keep it; otherwise only counted.
        var body: ByteBuffer
        var bodyBytes: Int64

        func header(_ name: String) -> String? {
            let wanted = name.lowercased()
            return headers.first { $0.name.lowercased() == wanted }?.value
        }
    }

    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let host: String
    private var pending = ByteBuffer()

    /// Connects to `url`'s host (TLS for https, trusting `tls`), runs `body`, closes.
    static func with<T: Sendable>(
        _ url: URL, tls: NIOSSLContext?, _ body: (inout BenchConnection) async throws -> T
    ) async throws -> T {
        let host = url.host ?? "127.0.0.1"
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Large reads: a fast server sends far more than the default 64 KiB per read.
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1 << 20))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: host))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let authority = url.port.map { "\(host):\($0)" } ?? host
        return try await withTaskExecutorPreference(EventLoopExecutor(channel.channel.eventLoop)) {
            try await channel.executeThenClose { inbound, outbound in
                var connection = BenchConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound, host: authority)
                return try await body(&connection)
            }
        }
    }

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, host: String) {
        self.inbound = inbound
        self.outbound = outbound
        self.host = host
    }

    /// Sends one request and reads its response. With `expectContinue`, a body waits for the
    /// server's `100 Continue` (a final status instead ends the request without it).
    mutating func send<Body: AsyncSequence & Sendable>(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: Body?, length: Int64,
        expectContinue: Bool = false, keepBody: Bool = false
    ) async throws -> Response where Body.Element == ByteBuffer {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(length)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let waits = expectContinue && body != nil && length > 0
        if waits { head += "Expect: 100-continue\r\n" }
        head += "\r\n"
        try await outbound.write(ByteBuffer(string: head))
        if waits {
            let interim = try await readResponse(keepBody: keepBody)
            guard interim.status == 100 else { return interim }
        }
        if let body {
            for try await chunk in body { try await outbound.write(chunk) }
        }
        var response = try await readResponse(keepBody: keepBody)
        while (100..<200).contains(response.status) { response = try await readResponse(keepBody: keepBody) }
        return response
    }

    mutating func send(
        _ method: String, _ target: String, headers: [(String, String)] = [], bytes: ByteBuffer? = nil, keepBody: Bool = false
    ) async throws -> Response {
        try await send(
            method, target, headers: headers, body: bytes.map { SingleBuffer(buffer: $0) }, length: Int64(bytes?.readableBytes ?? 0),
            keepBody: keepBody)
    }

    // MARK: reading

    private mutating func readResponse(keepBody: Bool) async throws -> Response {
        var searched = 0
        var found = Self.headLength(in: pending, from: 0)
        while found == nil {
            searched = max(0, pending.readableBytes - 3)
            try await receive()
            found = Self.headLength(in: pending, from: searched)
        }
        guard let headLength = found, let head = pending.readSlice(length: headLength + 4) else {
            throw BenchClient.Failure(description: "response head not found")
        }
        let parsed = try head.withUnsafeReadableBytes { try Self.parseHead($0[..<headLength]) }
        var response = parsed.response
        let status = response.status
        if (100..<200).contains(status) || status == 204 || status == 304 { return response }
        if parsed.chunked {
            try await readChunked(into: &response, keepBody: keepBody)
        } else if let length = parsed.contentLength {
            try await readBody(length: length, into: &response, keepBody: keepBody)
        }
        return response
    }

    /// Where the blank line ending a response head starts in `buffer`, searching from `start`.
    private static func headLength(in buffer: ByteBuffer, from start: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = start
            while index + 3 < bytes.count {
                if bytes[index + 3] != 10 {
                    index += bytes[index + 3] == 13 ? 1 : 4  // no CRLFCRLF can end before the next CR
                } else if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13 {
                    return index
                } else {
                    index += 1
                }
            }
            return nil
        }
    }

    /// Parses a status line and header lines from bytes, without Foundation's string work (at
    /// ten thousand answers a second it cost the client more than the server spent on them).
    private static func parseHead(
        _ head: Slice<UnsafeRawBufferPointer>
    ) throws -> (response: Response, contentLength: Int64?, chunked: Bool) {
        var lines: [Slice<UnsafeRawBufferPointer>] = []
        var lineStart = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == 13, index + 1 < head.endIndex, head[index + 1] == 10 {
                lines.append(head[lineStart..<index])
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        lines.append(head[lineStart..<head.endIndex])
        let statusLine = lines[0]
        // "HTTP/1.1 200 OK": three digits after the first space.
        guard let space = statusLine.firstIndex(of: 32), space + 4 <= statusLine.endIndex,
            let status = Int(String(decoding: statusLine[(space + 1)..<(space + 4)], as: UTF8.self))
        else { throw BenchClient.Failure(description: "bad status line: \(String(decoding: statusLine, as: UTF8.self))") }
        var headers: [(name: String, value: String)] = []
        var contentLength: Int64?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 58) else { continue }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
            while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[valueStart..<valueEnd], as: UTF8.self)
            switch name.lowercased() {
            case "content-length": contentLength = Int64(value)
            case "transfer-encoding": chunked = value.lowercased().contains("chunked")
            default: break
            }
            headers.append((name, value))
        }
        return (Response(status: status, headers: headers, body: ByteBuffer(), bodyBytes: 0), contentLength, chunked)
    }

    private mutating func readBody(length: Int64, into response: inout Response, keepBody: Bool) async throws {
        var remaining = length
        while remaining > 0 {
            if pending.readableBytes == 0 { try await receive() }
            let take = Int(min(Int64(pending.readableBytes), remaining))
            if keepBody {
                var slice = pending.readSlice(length: take)!
                response.body.writeBuffer(&slice)
            } else {
                pending.moveReaderIndex(forwardBy: take)
            }
            remaining -= Int64(take)
            response.bodyBytes += Int64(take)
        }
    }

    private mutating func readChunked(into response: inout Response, keepBody: Bool) async throws {
        while true {
            var lineEnd: Int?
            while true {
                lineEnd = pending.readableBytesView.firstRange(of: [13, 10]).map { $0.lowerBound - pending.readerIndex }
                if lineEnd != nil { break }
                try await receive()
            }
            let sizeLine = pending.readString(length: lineEnd!)!
            pending.moveReaderIndex(forwardBy: 2)
            guard let size = Int64(sizeLine.split(separator: ";")[0], radix: 16) else {
                throw BenchClient.Failure(description: "bad chunk size: \(sizeLine)")
            }
            try await readBody(length: size, into: &response, keepBody: keepBody)
            var crlf = Response(status: 0, headers: [], body: ByteBuffer(), bodyBytes: 0)
            try await readBody(length: 2, into: &crlf, keepBody: false)
            if size == 0 { return }
        }
    }

    private mutating func receive() async throws {
        guard var chunk = try await inbound.next() else { throw BenchClient.Failure(description: "the server closed the connection") }
        if pending.readableBytes == 0 {
            pending = chunk
        } else {
            pending.writeBuffer(&chunk)
        }
    }
}

/// One buffer as a body.
struct SingleBuffer: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffer: ByteBuffer

    struct AsyncIterator: AsyncIteratorProtocol {
        var buffer: ByteBuffer?
        mutating func next() async -> ByteBuffer? {
            defer { buffer = nil }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
