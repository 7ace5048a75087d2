public import AsyncHTTPClient
public import KuraCore
import Foundation
import NIOCore
import NIOHTTP1
public import NIOSSL
import KuraStorage

/// A client of one OCI Distribution registry (Kura or any other v2 registry): manifests and
/// blobs, tags and catalog, referrers, uploads with cross-repository mounts. Requests are
/// signed as the registry asks (Basic, or bearer tokens from its token service), and failed
/// calls with a buffered body are retried with backoff.
public struct RegistryClient: Sendable {
    public let endpoint: RegistryEndpoint
    let http: HTTPClient
    let retry: RetryPolicy
    let authenticator: RegistryAuthenticator
    /// When set, blobs are uploaded in PATCH chunks of this size instead of one streamed PUT.
    public let uploadChunkSize: Int?
    /// Connections of the client's own for blob GETs, which read the socket up to 1 MiB at a
    /// time where async-http-client reads 64 KiB (a pull-through fill spent about a second of
    /// CPU per GiB on the pieces); nil when the endpoint's address cannot be taken apart.
    let blobReads: BlobReads?

    /// Manifest media types asked for on every manifest request.
    static let manifestAccept = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList]
        .joined(separator: ", ")
    /// Manifests larger than this are refused (the distribution spec suggests 4 MiB).
    static let manifestLimit = 4 << 20
    /// The longest one blob's transfer may take, read or written.
    static let blobTransferTimeout: Duration = .seconds(86_400)

    /// - Parameter tls: how blob reads on the client's own connections check an https
    ///   registry's certificate; give the TLS configuration `httpClient` was made with (nil:
    ///   the system's roots, as async-http-client's default).
    public init(
        endpoint: RegistryEndpoint, httpClient: HTTPClient = .shared, retry: RetryPolicy = RetryPolicy(), uploadChunkSize: Int? = nil,
        tls: TLSConfiguration? = nil
    ) {
        self.endpoint = endpoint
        self.http = httpClient
        self.retry = retry
        self.uploadChunkSize = uploadChunkSize.map { Swift.max(1, $0) }
        self.authenticator = RegistryAuthenticator(credentials: endpoint.credentials, http: httpClient)
        self.blobReads = BlobReads(endpoint: endpoint, tls: tls)
    }

    // MARK: scopes

    static func pull(_ repository: String) -> String { "repository:\(repository):pull" }
    static func push(_ repository: String) -> String { "repository:\(repository):pull,push" }

    // MARK: reading

    /// Checks that the registry answers `/v2/` (signing in if it asks).
    public func ping() async throws {
        _ = try await buffered(.GET, "/v2/", scopes: [], expect: [200])
    }

    /// Every repository of the catalog (all pages).
    public func catalog() async throws -> [String] {
        struct Page: Decodable { var repositories: [String]? }
        var names: [String] = []
        var next: String? = "/v2/_catalog?n=1000"
        while let path = next {
            let (response, body) = try await buffered(.GET, path, scopes: ["registry:catalog:*"], expect: [200])
            names += (try? JSONDecoder().decode(Page.self, from: Data(body.readableBytesView)))?.repositories ?? []
            next = Self.nextPage(response.headers)
        }
        return names
    }

    /// Every tag of a repository (all pages); empty when the repository is unknown.
    public func tags(_ repository: String) async throws -> [String] {
        struct Page: Decodable { var tags: [String]? }
        var tags: [String] = []
        var next: String? = "/v2/\(repository)/tags/list?n=1000"
        while let path = next {
            let (response, body) = try await buffered(.GET, path, scopes: [Self.pull(repository)], expect: [200, 404])
            if response.status == .notFound { return tags }
            tags += (try? JSONDecoder().decode(Page.self, from: Data(body.readableBytesView)))?.tags ?? []
            next = Self.nextPage(response.headers)
        }
        return tags
    }

    /// A manifest with its exact bytes, or nil when there is none. Fetched by digest, the
    /// bytes must hash to it; fetched by tag, they must hash to the `Docker-Content-Digest`
    /// the registry claims.
    public func manifest(_ repository: String, reference: String) async throws -> FetchedManifest? {
        let (response, body) = try await buffered(
            .GET, "/v2/\(repository)/manifests/\(reference)", scopes: [Self.pull(repository)],
            headers: ["Accept": Self.manifestAccept], expect: [200, 404], limit: Self.manifestLimit)
        if response.status == .notFound { return nil }
        let expected = (try? Digest(parsing: reference)) ?? response.headers.first(name: "Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
        let digest = ContentHasher.digest(expected?.algorithm ?? .sha256, of: body)
        if let expected, expected != digest {
            throw MirrorError.digestMismatch(expected: expected.description, actual: digest.description)
        }
        var mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        if mediaType == nil || !MediaType.manifestTypes.contains(mediaType!) {
            struct Typed: Decodable { var mediaType: String? }
            mediaType = (try? JSONDecoder().decode(Typed.self, from: Data(body.readableBytesView)))?.mediaType ?? mediaType
        }
        guard let mediaType else { throw MirrorError.invalidManifest("\(repository):\(reference) has no media type") }
        return FetchedManifest(bytes: body, mediaType: mediaType, digest: digest)
    }

    /// The digest a manifest reference resolves to (HEAD), or nil when there is none.
    public func manifestDigest(_ repository: String, reference: String) async throws -> Digest? {
        let (response, _) = try await buffered(
            .HEAD, "/v2/\(repository)/manifests/\(reference)", scopes: [Self.pull(repository)],
            headers: ["Accept": Self.manifestAccept], expect: [200, 404])
        guard response.status == .ok else { return nil }
        if let header = response.headers.first(name: "Docker-Content-Digest"), let digest = try? Digest(parsing: header) { return digest }
        // A registry that does not say: a digest reference answers for itself.
        return try? Digest(parsing: reference)
    }

    /// Whether a blob is in a repository (HEAD).
    public func blobExists(_ repository: String, _ digest: Digest, scopes: [String]? = nil) async throws -> Bool {
        let (response, _) = try await buffered(
            .HEAD, "/v2/\(repository)/blobs/\(digest)", scopes: scopes ?? [Self.pull(repository)], expect: [200, 404])
        return response.status == .ok
    }

    /// A blob's size from HEAD, or nil when the repository does not have it.
    public func blobSize(_ repository: String, _ digest: Digest) async throws -> Int64? {
        let (response, _) = try await buffered(.HEAD, "/v2/\(repository)/blobs/\(digest)", scopes: [Self.pull(repository)], expect: [200, 404])
        guard response.status == .ok else { return nil }
        return response.headers.first(name: "Content-Length").flatMap { Int64($0) }
    }

    /// The referrers of a manifest: the referrers API, or the tag schema `sha256-<hex>` of
    /// registries without it.
    public func referrers(_ repository: String, of digest: Digest) async throws -> [ContentDescriptor] {
        struct Index: Decodable { var manifests: [ContentDescriptor]? }
        let (response, body) = try await buffered(
            .GET, "/v2/\(repository)/referrers/\(digest)", scopes: [Self.pull(repository)], expect: [200, 404, 400, 405])
        if response.status == .ok, let index = try? JSONDecoder().decode(Index.self, from: Data(body.readableBytesView)) {
            return index.manifests ?? []
        }
        let fallbackTag = "\(digest.algorithm.rawValue)-\(digest.encoded)"
        guard let fallback = try await manifest(repository, reference: fallbackTag) else { return [] }
        return (try? JSONDecoder().decode(Index.self, from: Data(fallback.bytes.readableBytesView)))?.manifests ?? []
    }

    /// Opens a blob for reading; the caller streams the body. The GET goes on the client's own
    /// connections with the authorization known so far; any answer but 200 (a 401 asking to
    /// sign in, a redirect, an error) is asked again through async-http-client, which signs
    /// in, follows redirects and reads the error's message. A registry that redirected a blob
    /// read once is read through async-http-client from then on.
    func openBlob(_ repository: String, _ digest: Digest) async throws -> BlobDownload {
        let path = "/v2/\(repository)/blobs/\(digest)"
        let scopes = [Self.pull(repository)]
        return try await retry.run {
            if let blobReads, !blobReads.redirects {
                let authorization = try await authenticator.authorization(for: scopes)
                if let response = try await blobReads.get(path, authorization: authorization, timeout: Self.blobTransferTimeout) {
                    return BlobDownload(response)
                }
            }
            let response = try await send(.GET, path, scopes: scopes, timeout: Self.blobTransferTimeout)
            guard response.status == .ok else { throw try await failure("GET", path, response) }
            return BlobDownload(response)
        }
    }

    // MARK: writing

    /// Pushes a manifest's exact bytes under a tag or its digest; returns the digest the
    /// registry computed, which must be the manifest's own.
    @discardableResult
    public func putManifest(_ manifest: FetchedManifest, to repository: String, reference: String) async throws -> Digest {
        let (response, _) = try await buffered(
            .PUT, "/v2/\(repository)/manifests/\(reference)", scopes: [Self.push(repository)],
            headers: ["Content-Type": manifest.mediaType], body: manifest.bytes, expect: [200, 201, 202])
        if let header = response.headers.first(name: "Docker-Content-Digest"), let stored = try? Digest(parsing: header),
            stored.algorithm == manifest.digest.algorithm, stored != manifest.digest
        {
            throw MirrorError.digestMismatch(expected: manifest.digest.description, actual: stored.description)
        }
        return manifest.digest
    }

    /// What starting an upload came to: the blob was mounted from another repository, or an
    /// upload session is open at `location`.
    enum UploadStart {
        case mounted
        /// `minimumChunk` is the target's `OCI-Chunk-Min-Length`: chunks (but the last) must be at least that big.
        case session(location: String, minimumChunk: Int?)
    }

    /// Starts an upload, asking first for a cross-repository mount when `mountFrom` is set.
    func startUpload(_ repository: String, digest: Digest, mountFrom: String?) async throws -> UploadStart {
        var path = "/v2/\(repository)/blobs/uploads/"
        var scopes = [Self.push(repository)]
        if let mountFrom {
            path += "?mount=\(digest)&from=\(mountFrom)"
            scopes.append(Self.pull(mountFrom))
        }
        let (response, _) = try await buffered(.POST, path, scopes: scopes, expect: [201, 202])
        if response.status == .created, mountFrom != nil { return .mounted }
        guard let location = response.headers.first(name: "Location") else {
            throw MirrorError.unexpectedStatus(method: "POST", url: path, status: Int(response.status.code), message: "no Location")
        }
        return .session(location: location, minimumChunk: response.headers.first(name: "OCI-Chunk-Min-Length").flatMap { Int($0) })
    }

    /// Sends a blob's bytes into an open upload session and commits it under `digest`:
    /// one streamed PUT, or PATCH chunks of ``uploadChunkSize`` (at least the target's
    /// minimum) and a closing PUT. The target hashes what it receives and refuses a mismatch.
    func upload<Bytes: AsyncSequence & Sendable>(
        _ bytes: Bytes, size: Int64, digest: Digest, repository: String, location: String, minimumChunk: Int? = nil
    ) async throws where Bytes.Element == ByteBuffer {
        let scopes = [Self.push(repository)]
        var location = location
        if let requested = uploadChunkSize {
            let chunkSize = Swift.max(requested, minimumChunk ?? 1)
            var offset: Int64 = 0
            var chunk = ByteBuffer()
            for try await var buffer in bytes {
                while buffer.readableBytes > 0 {
                    var piece = buffer.readSlice(length: Swift.min(buffer.readableBytes, chunkSize - chunk.readableBytes))!
                    chunk.writeBuffer(&piece)
                    if chunk.readableBytes == chunkSize {
                        location = try await patch(chunk, at: location, offset: offset, scopes: scopes)
                        offset += Int64(chunk.readableBytes)
                        chunk.clear()
                    }
                }
            }
            if chunk.readableBytes > 0 { location = try await patch(chunk, at: location, offset: offset, scopes: scopes) }
            let url = Self.appending(digest: digest, to: location)
            _ = try await buffered(.PUT, url, scopes: scopes, headers: ["Content-Length": "0"], expect: [201, 204], retrying: false)
            return
        }
        let url = Self.appending(digest: digest, to: location)
        var request = HTTPClientRequest(url: endpoint.url(url))
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        if let authorization = try await authenticator.authorization(for: scopes) {
            request.headers.add(name: "Authorization", value: authorization)
        }
        request.body = .stream(bytes, length: .known(size))
        let response = try await http.execute(request, timeout: .init(Self.blobTransferTimeout))
        guard response.status == .created || response.status == .noContent else { throw try await failure("PUT", url, response) }
        _ = try? await response.body.collect(upTo: 1 << 16)
    }

    private func patch(_ chunk: ByteBuffer, at location: String, offset: Int64, scopes: [String]) async throws -> String {
        let end = offset + Int64(chunk.readableBytes) - 1
        let (response, _) = try await buffered(
            .PATCH, location, scopes: scopes,
            headers: ["Content-Type": "application/octet-stream", "Content-Range": "\(offset)-\(end)"], body: chunk,
            expect: [202], retrying: false)
        return response.headers.first(name: "Location") ?? location
    }

    static func appending(digest: Digest, to location: String) -> String {
        location + (location.contains("?") ? "&" : "?") + "digest=\(digest)"
    }

    // MARK: requests

    /// A request with a buffered body, retried on transient failures, its response body
    /// collected. A status outside `expect` is an error.
    func buffered(
        _ method: HTTPMethod, _ path: String, scopes: [String], headers: [String: String] = [:], body: ByteBuffer? = nil,
        expect: Set<Int>, limit: Int = 1 << 20, retrying: Bool = true
    ) async throws -> (HTTPClientResponse, ByteBuffer) {
        let policy = retrying ? retry : RetryPolicy(attempts: 1)
        return try await policy.run {
            let response = try await send(method, path, scopes: scopes, headers: headers, body: body, timeout: .seconds(300))
            guard expect.contains(Int(response.status.code)) else { throw try await failure(method.rawValue, path, response) }
            let collected = method == .HEAD ? ByteBuffer() : try await response.body.collect(upTo: limit)
            return (response, collected)
        }
    }

    /// Sends one request, signing it; a 401 with a challenge is answered once by signing in.
    func send(
        _ method: HTTPMethod, _ path: String, scopes: [String], headers: [String: String] = [:], body: ByteBuffer? = nil,
        timeout: Duration
    ) async throws -> HTTPClientResponse {
        var signedIn = false
        while true {
            var request = HTTPClientRequest(url: endpoint.url(path))
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorization = try await authenticator.authorization(for: scopes) {
                request.headers.add(name: "Authorization", value: authorization)
            }
            if let body { request.body = .bytes(body) }
            let response = try await http.execute(request, timeout: .init(timeout))
            guard response.status == .unauthorized, !signedIn else { return response }
            let challenge = response.headers.first(name: "WWW-Authenticate")
            guard await authenticator.challenged(by: challenge, scopes: scopes) else { return response }
            _ = try? await response.body.collect(upTo: 1 << 16)
            signedIn = true
        }
    }

    /// The error for an unexpected response (its body read for the message).
    func failure(_ method: String, _ path: String, _ response: HTTPClientResponse) async throws -> MirrorError {
        let body = (try? await response.body.collect(upTo: 1 << 16)) ?? ByteBuffer()
        let message = OCIErrorBody.message(body)
        let url = endpoint.url(path)
        switch response.status.code {
        case 401, 403: return .unauthorized("\(method) \(url): \(response.status.code) \(message)")
        default: return .unexpectedStatus(method: method, url: url, status: Int(response.status.code), message: message)
        }
    }

    /// The path of the next page from a `Link: <…>; rel="next"` header.
    static func nextPage(_ headers: HTTPHeaders) -> String? {
        guard let link = headers.first(name: "Link"), link.contains("rel=\"next\""),
            let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"), open < close
        else { return nil }
        return String(link[link.index(after: open)..<close])
    }
}
