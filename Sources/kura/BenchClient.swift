import AsyncHTTPClient
import Foundation
import KuraCore
import KuraStorage
import NIOCore
import NIOHTTP1
import NIOSSL

/// A minimal OCI client for benchmarks: just the requests the benchmarks time, against any
/// v2 registry, so Kura and others are measured by the same code.
struct BenchClient: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let base: URL
    let http: HTTPClient
    let authorization: String?

    init(url: String, connections: Int, user: String?, password: String?, tls: ServerTLSOptions) throws {
        guard let base = URL(string: url), base.scheme == "http" || base.scheme == "https" else {
            throw Failure(description: "--url must be http(s)://HOST:PORT, not \(url)")
        }
        self.base = base
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.decompression = .disabled
        configuration = try tls.clientConfiguration(configuration)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        if let user, let password {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    func shutdown() async throws { try await http.shutdown() }

    private func url(_ pathOrLocation: String) -> String {
        if pathOrLocation.hasPrefix("http://") || pathOrLocation.hasPrefix("https://") { return pathOrLocation }
        return base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + pathOrLocation
    }

    private func request(_ pathOrLocation: String, _ method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(pathOrLocation))
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return request
    }

    private func expect(_ response: HTTPClientResponse, _ status: HTTPResponseStatus, _ what: String) async throws {
        guard response.status == status else {
            let body = try? await response.body.collect(upTo: 4096)
            throw Failure(description: "\(what): expected \(status.code), got \(response.status.code) \(body.map { String(buffer: $0) } ?? "")")
        }
    }

    /// POST, then PUT the whole body (or PATCH chunks of `chunk` bytes, then PUT).
    func pushBlob(repository: String, digest: Digest, size: Int64, chunk: Int64?, body: @Sendable (Int64, Int64) -> BenchBlobStream) async throws {
        let start = try await http.execute(request("/v2/\(repository)/blobs/uploads/", .POST), timeout: .seconds(300))
        try await expect(start, .accepted, "POST upload")
        guard var location = start.headers.first(name: "Location") else { throw Failure(description: "POST upload: no Location") }
        _ = try? await start.body.collect(upTo: 1 << 16)
        if let chunk {
            var offset: Int64 = 0
            while offset < size {
                let length = min(chunk, size - offset)
                var patch = request(location, .PATCH)
                patch.headers.add(name: "Content-Type", value: "application/octet-stream")
                patch.headers.add(name: "Content-Range", value: "\(offset)-\(offset + length - 1)")
                patch.body = .stream(body(offset, length), length: .known(length))
                let response = try await http.execute(patch, timeout: .seconds(600))
                try await expect(response, .accepted, "PATCH chunk")
                location = response.headers.first(name: "Location") ?? location
                _ = try? await response.body.collect(upTo: 1 << 16)
                offset += length
            }
            let put = try await http.execute(request(appendingDigest(location, digest), .PUT), timeout: .seconds(300))
            try await expect(put, .created, "PUT upload")
            _ = try? await put.body.collect(upTo: 1 << 16)
        } else {
            var put = request(appendingDigest(location, digest), .PUT)
            put.headers.add(name: "Content-Type", value: "application/octet-stream")
            put.body = .stream(body(0, size), length: .known(size))
            let response = try await http.execute(put, timeout: .seconds(600))
            try await expect(response, .created, "PUT upload")
            _ = try? await response.body.collect(upTo: 1 << 16)
        }
    }

    private func appendingDigest(_ location: String, _ digest: Digest) -> String {
        location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
    }

    /// GETs a blob and returns the bytes received.
    func pullBlob(repository: String, digest: Digest) async throws -> Int64 {
        let response = try await http.execute(request("/v2/\(repository)/blobs/\(digest)", .GET), timeout: .seconds(600))
        try await expect(response, .ok, "GET blob")
        var received: Int64 = 0
        for try await chunk in response.body { received += Int64(chunk.readableBytes) }
        return received
    }

    func putManifest(repository: String, reference: String, mediaType: String, bytes: [UInt8]) async throws {
        var put = request("/v2/\(repository)/manifests/\(reference)", .PUT)
        put.headers.add(name: "Content-Type", value: mediaType)
        put.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await http.execute(put, timeout: .seconds(60))
        try await expect(response, .created, "PUT manifest")
        _ = try? await response.body.collect(upTo: 1 << 16)
    }

    func getManifest(repository: String, reference: String, accept: String) async throws -> Int {
        var get = request("/v2/\(repository)/manifests/\(reference)", .GET)
        get.headers.add(name: "Accept", value: accept)
        let response = try await http.execute(get, timeout: .seconds(60))
        try await expect(response, .ok, "GET manifest")
        return try await response.body.collect(upTo: 4 << 20).readableBytes
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
