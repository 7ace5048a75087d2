import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One signed HTTP exchange with the bucket, below ``S3Backend``: URL building (path-style
/// or virtual-host), SigV4 signing, error decoding and retries.
struct S3Client: Sendable {
    enum Payload: Sendable {
        case empty
        /// A body that is hashed and signed (small bodies: XML, markers, small objects).
        case signed(ByteBuffer)
        /// A body sent with `UNSIGNED-PAYLOAD` (parts), so it is not hashed twice.
        case unsigned(ByteBuffer)
    }

    struct Call: Sendable {
        var method: HTTPMethod
        /// The physical key in the bucket, or `nil` for a bucket-level call.
        var key: String?
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
    }

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    let configuration: S3Configuration
    let http: HTTPClient
    /// Connections of their own for streamed GETs (``StreamedReadConnections``).
    let reads: StreamedReadConnections
    let signer: S3Signer
    let retry: S3RetryPolicy
    let statistics: S3RequestStatistics

    init(configuration: S3Configuration, http: HTTPClient, statistics: S3RequestStatistics) {
        self.configuration = configuration
        self.http = http
        self.statistics = statistics
        let secure = configuration.endpoint.scheme == "https"
        self.reads = StreamedReadConnections(
            host: Self.hostName(configuration), port: configuration.endpoint.port ?? (secure ? 443 : 80),
            tls: secure ? .makeClientConfiguration() : nil)
        self.signer = S3Signer(credentials: configuration.credentials, region: configuration.region)
        self.retry = S3RetryPolicy(
            maxAttempts: configuration.maxAttempts, baseBackoff: configuration.baseBackoff,
            maxBackoff: configuration.maxBackoff)
    }

    /// The name requests for the bucket go to: the endpoint's host, with the bucket in front
    /// for virtual-host addressing.
    static func hostName(_ configuration: S3Configuration) -> String {
        let host = configuration.endpoint.host ?? "localhost"
        return configuration.addressing == .virtualHost ? "\(configuration.bucket).\(host)" : host
    }

    /// `host[:port]` of requests for `bucket`.
    var host: String {
        let endpoint = configuration.endpoint
        var host = Self.hostName(configuration)
        if let port = endpoint.port, !(endpoint.scheme == "http" && port == 80), !(endpoint.scheme == "https" && port == 443) {
            host += ":\(port)"
        }
        return host
    }

    /// The encoded path of a physical key (or of the bucket).
    func encodedPath(_ key: String?) -> String {
        var path = configuration.addressing == .path ? "/\(configuration.bucket)" : ""
        if let key { path += "/\(key)" }
        if path.isEmpty { path = "/" }
        return S3Signer.encodePath(path)
    }

    func url(_ key: String?, query: [(String, String)] = []) -> String {
        let scheme = configuration.endpoint.scheme ?? "http"
        return "\(scheme)://\(host)\(requestTarget(key, query: query))"
    }

    /// The path and query of a request line.
    func requestTarget(_ key: String?, query: [(String, String)] = []) -> String {
        encodedPath(key) + (query.isEmpty ? "" : "?" + S3Signer.canonicalQuery(query))
    }

    /// The headers of a signed call: the call's own, `host`, `x-amz-content-sha256` and the
    /// signature's.
    func signedHeaders(_ call: Call, payloadHash: String) -> [(String, String)] {
        var headers = call.headers
        headers.append(("host", host))
        headers.append(("x-amz-content-sha256", payloadHash))
        let added = signer.sign(
            method: call.method.rawValue, encodedPath: encodedPath(call.key), query: call.query, headers: headers,
            payloadHash: payloadHash)
        return headers + added
    }

    /// Counts a request in ``statistics`` under the operation's name without the key some
    /// callers append ("GetObject blobs/…").
    private func record(_ operation: String, bytesSent: Int) {
        statistics.record(String(operation.prefix { $0 != " " }), bytesSent: bytesSent)
    }

    /// The error for a response outside 2xx, from its status and (XML) body.
    static func responseError(status: Int, body: ByteBuffer, operation: String) -> S3ResponseError {
        let xml = try? S3XMLElement.parse(Array(body.readableBytesView))
        return S3ResponseError(
            status: status, code: xml?.value("Code") ?? "", message: xml?.value("Message") ?? "", operation: operation)
    }

    /// One attempt: signs and sends the call, and returns the response with its body still
    /// streaming. A status outside 2xx and `accept` throws an ``S3ResponseError``.
    func send(_ operation: String, _ call: Call, payload: Payload, accept: Set<Int>, timeout: Duration) async throws
        -> HTTPClientResponse
    {
        var request = HTTPClientRequest(url: url(call.key, query: call.query))
        request.method = call.method
        let payloadHash: String
        var payloadBytes = 0
        switch payload {
        case .empty:
            payloadHash = S3Signer.emptyPayloadHash
        case .signed(let buffer):
            payloadHash = S3Signer.sha256Hex(buffer.readableBytesView)
            request.body = .bytes(buffer)
            payloadBytes = buffer.readableBytes
        case .unsigned(let buffer):
            payloadHash = S3Signer.unsignedPayload
            request.body = .bytes(buffer)
            payloadBytes = buffer.readableBytes
        }
        for (name, value) in signedHeaders(call, payloadHash: payloadHash) { request.headers.add(name: name, value: value) }
        record(operation, bytesSent: payloadBytes)
        let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        let status = Int(response.status.code)
        if (200..<300).contains(status) || accept.contains(status) { return response }
        var body = ByteBuffer()
        if call.method != .HEAD {
            body = (try? await response.body.collect(upTo: 1 << 16)) ?? ByteBuffer()
        }
        throw Self.responseError(status: status, body: body, operation: operation)
    }

    /// Sends a GET with retries until the response head arrives, and returns the response with
    /// its body read ahead by up to `readAhead` bytes (``StreamedBody``) on a connection of
    /// ``reads``; the body itself is not retried.
    func openStream(_ operation: String, _ call: Call, accept: Set<Int>, readAhead: Int) async throws -> StreamedResponse {
        try await retry.run(operation) {
            var head = HTTPRequestHead(version: .http1_1, method: call.method, uri: requestTarget(call.key, query: call.query))
            for (name, value) in signedHeaders(call, payloadHash: S3Signer.emptyPayloadHash) {
                head.headers.add(name: name, value: value)
            }
            record(operation, bytesSent: 0)
            let response = try await reads.open(
                head, readAhead: readAhead, deadline: .now() + .nanoseconds(configuration.transferTimeout.nanoseconds))
            let status = Int(response.status.code)
            if (200..<300).contains(status) || accept.contains(status) { return response }
            let body = (try? await response.stream.collect(upTo: 1 << 16)) ?? ByteBuffer()
            throw Self.responseError(status: status, body: body, operation: operation)
        }
    }

    /// Sends a call with retries and reads its whole (small) body.
    func perform(
        _ operation: String, _ call: Call, payload: Payload = .empty, accept: Set<Int> = [], timeout: Duration? = nil,
        bodyLimit: Int = 16 << 20
    ) async throws -> Response {
        try await retry.run(operation) {
            let response = try await send(
                operation, call, payload: payload, accept: accept, timeout: timeout ?? configuration.requestTimeout)
            let body = call.method == .HEAD ? ByteBuffer() : try await response.body.collect(upTo: bodyLimit)
            return Response(status: Int(response.status.code), headers: response.headers, body: body)
        }
    }

    /// Decodes the XML body of a response that succeeded at the HTTP level but may still
    /// carry an `<Error>` (CompleteMultipartUpload does that).
    static func xml(_ response: Response, operation: String) throws -> S3XMLElement {
        let root = try S3XMLElement.parse(Array(response.body.readableBytesView))
        if root.name == "Error" {
            throw S3ResponseError(
                status: 500, code: root.value("Code") ?? "", message: root.value("Message") ?? "", operation: operation)
        }
        return root
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
