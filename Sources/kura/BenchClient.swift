import Foundation
import KuraCore
import KuraStorage
import NIOCore
import NIOSSL

/// A minimal OCI client for benchmarks: just the requests the benchmarks time, against any
/// v2 registry, so Kura and others are measured by the same code. Each worker holds one
/// keep-alive HTTP/1.1 connection (``BenchConnection``), as curl and wrk do.
struct BenchClient: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let base: URL
    let tls: NIOSSLContext?
    let authorization: String?
    /// Send `Expect: 100-continue` with every body and wait for `100 Continue`, as curl does
    /// for bodies over 1 MiB.
    let expectContinue: Bool

    init(url: String, user: String?, password: String?, tls options: ServerTLSOptions, expectContinue: Bool = false) throws {
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
            throw Failure(description: "--url must be http(s)://HOST:PORT, not \(url)")
        }
        self.base = base
        self.expectContinue = expectContinue
        if base.scheme == "https" {
            var configuration = try options.tlsConfiguration()
            configuration.applicationProtocols = ["http/1.1"]
            tls = try NIOSSLContext(configuration: configuration)
        } else {
            tls = nil
        }
        if let user, let password {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    /// Runs `body` over one new connection to the registry.
    func withConnection<T: Sendable>(_ body: (inout BenchConnection) async throws -> T) async throws -> T {
        try await BenchConnection.with(base, tls: tls, body)
    }

    /// The request target of a path or a `Location` (absolute or not).
    private func target(_ pathOrLocation: String) -> String {
        guard pathOrLocation.hasPrefix("http://") || pathOrLocation.hasPrefix("https://"),
            let url = URLComponents(string: pathOrLocation)
        else { return pathOrLocation }
        return url.percentEncodedPath + (url.percentEncodedQuery.map { "?\($0)" } ?? "")
    }

    private func headers(_ extra: [(String, String)] = []) -> [(String, String)] {
        (authorization.map { [("Authorization", $0)] } ?? []) + extra
    }

    private func expect(_ response: BenchConnection.Response, _ status: Int, _ what: String) throws {
        guard response.status == status else {
            throw Failure(description: "\(what): expected \(status), got \(response.status) \(String(buffer: response.body))")
        }
    }

    /// How a blob goes up after the POST that opens its session.
    enum PushMode: Sendable {
        /// PUT `?digest=` with the whole body.
        case put
        /// One PATCH with the whole body, then an empty PUT `?digest=` (docker, skopeo).
        case patch
        /// PATCHes of this many bytes with `Content-Range`, then an empty PUT.
        case chunks(Int64)
    }

    /// POST, then the body as `mode` says.
    func pushBlob(
        on connection: inout BenchConnection, repository: String, digest: Digest, size: Int64, mode: PushMode,
        body: @Sendable (Int64, Int64) -> BenchBlobStream
    ) async throws {
        let start = try await connection.send("POST", "/v2/\(repository)/blobs/uploads/", headers: headers(), keepBody: true)
        try expect(start, 202, "POST upload")
        guard var location = start.header("Location").map(target) else { throw Failure(description: "POST upload: no Location") }
        let octets = headers([("Content-Type", "application/octet-stream")])
        switch mode {
        case .patch:
            let patch = try await connection.send(
                "PATCH", location, headers: octets, body: body(0, size), length: size, expectContinue: expectContinue, keepBody: true)
            try expect(patch, 202, "PATCH")
            location = patch.header("Location").map(target) ?? location
            let put = try await connection.send("PUT", appendingDigest(location, digest), headers: headers(), keepBody: true)
            try expect(put, 201, "PUT upload")
        case .chunks(let chunk):
            var offset: Int64 = 0
            while offset < size {
                let length = min(chunk, size - offset)
                let response = try await connection.send(
                    "PATCH", location, headers: octets + [("Content-Range", "\(offset)-\(offset + length - 1)")],
                    body: body(offset, length), length: length, expectContinue: expectContinue, keepBody: true)
                try expect(response, 202, "PATCH chunk")
                location = response.header("Location").map(target) ?? location
                offset += length
            }
            let put = try await connection.send("PUT", appendingDigest(location, digest), headers: headers(), keepBody: true)
            try expect(put, 201, "PUT upload")
        case .put:
            let put = try await connection.send(
                "PUT", appendingDigest(location, digest), headers: octets, body: body(0, size), length: size,
                expectContinue: expectContinue, keepBody: true)
            try expect(put, 201, "PUT upload")
        }
    }

    private func appendingDigest(_ location: String, _ digest: Digest) -> String {
        location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
    }

    /// GETs a blob and returns the bytes received.
    func pullBlob(on connection: inout BenchConnection, repository: String, digest: Digest) async throws -> Int64 {
        let response = try await connection.send("GET", "/v2/\(repository)/blobs/\(digest)", headers: headers())
        try expect(response, 200, "GET blob")
        return response.bodyBytes
    }

    func putManifest(on connection: inout BenchConnection, repository: String, reference: String, mediaType: String, bytes: [UInt8]) async throws {
        let response = try await connection.send(
            "PUT", "/v2/\(repository)/manifests/\(reference)", headers: headers([("Content-Type", mediaType)]), bytes: ByteBuffer(bytes: bytes),
            keepBody: true)
        try expect(response, 201, "PUT manifest")
    }

    func getManifest(on connection: inout BenchConnection, repository: String, reference: String, accept: String) async throws -> Int {
        let response = try await connection.send("GET", "/v2/\(repository)/manifests/\(reference)", headers: headers([("Accept", accept)]))
        try expect(response, 200, "GET manifest")
        return Int(response.bodyBytes)
    }
}

/// A blob's bytes for a benchmark: a seed-specific first buffer, then one buffer repeated,
/// so every blob has its own digest but costs nothing to produce.
struct BenchBlobStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let head: ByteBuffer
    let body: ByteBuffer
    let range: Range<Int64>

    static func make(seed: UInt64, source: ByteBuffer) -> @Sendable (Int64, Int64) -> BenchBlobStream {
        var head = source
        head.setInteger(seed, at: head.readerIndex)
        head.setInteger(~seed, at: head.readerIndex + 8)
        let frozenHead = head
        return { offset, length in BenchBlobStream(head: frozenHead, body: source, range: offset..<(offset + length)) }
    }

    /// The digest of `size` bytes of this stream, computed before timing starts.
    static func digest(of stream: BenchBlobStream) -> Digest {
        var hasher = ContentHasher(.sha256)
        var iterator = stream.makeAsyncIterator()
        while let chunk = iterator.nextSync() { hasher.update(chunk) }
        return hasher.finalize()
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let head: ByteBuffer
        let body: ByteBuffer
        var position: Int64
        let end: Int64

        mutating func next() async -> ByteBuffer? { nextSync() }

        mutating func nextSync() -> ByteBuffer? {
            guard position < end else { return nil }
            let bufferSize = Int64(body.readableBytes)
            let buffer = position < bufferSize ? head : body
            let within = position % bufferSize
            let count = Int(Swift.min(bufferSize - within, end - position))
            position += Int64(count)
            return buffer.getSlice(at: buffer.readerIndex + Int(within), length: count)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(head: head, body: body, position: range.lowerBound, end: range.upperBound)
    }
}
