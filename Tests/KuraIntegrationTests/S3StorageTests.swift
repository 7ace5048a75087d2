import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraHTTP
@testable import KuraServe
import KuraServerTestSupport
import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

/// Kura end to end on a real S3-compatible server (SeaweedFS, started by the tests), with
/// and without the local cache tier: a real client's round trip, what a commit costs in S3
/// requests, cache hits, and pulls redirected to presigned URLs.
@Suite("Kura on S3 (SeaweedFS)", .serialized, .timeLimit(.minutes(5)))
struct S3StorageTests {
    /// Storage on the shared SeaweedFS under a fresh key prefix, optionally with a cache in
    /// `scratch` and pull redirects.
    static func storage(scratch: String, cache: Bool = false, cacheBytes: Int64 = 64 << 20, redirectSeconds: Int? = nil) async throws
        -> ServerConfiguration.StorageSettings
    {
        let server = try await SeaweedFS.shared
        let s3 = server.configuration(keyPrefix: "http-\(UUID().uuidString.lowercased())/")
        return ServerConfiguration.StorageSettings(
            backend: .s3(s3), cache: cache ? ("\(scratch)/cache", cacheBytes) : nil, redirectPullsSeconds: redirectSeconds)
    }

    /// The S3 backend under whatever the server stacked on it.
    static func s3Backend(_ services: KuraServer.Services) throws -> S3Backend {
        let backend = services.registry.blobs.backend
        if let s3 = backend as? S3Backend { return s3 }
        if let tiered = backend as? TieredBackend, let s3 = tiered.remote as? S3Backend { return s3 }
        throw TestFailure("the server's storage is \(backend.name), not S3")
    }

    @Test("skopeo pushes to and pulls from Kura on S3 with a cache; the bucket holds the data and small markers")
    func skopeoRoundTrip() async throws {
        try #require(SkopeoRunner.isInstalled, "needs /usr/bin/skopeo (scripts/install-deps)")
        try await withTemporaryDirectory { scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            // A layer above S3's 5 MiB part minimum, so the upload goes through multipart parts.
            let image = try await TestImage.make(
                .oci, architecture: "amd64",
                files: ["big.txt": Data(testBytes(6_000_000, seed: 7)).base64EncodedString(), "hello.txt": "hello from S3\n"], scratch: scratch)
            #expect(image.layers[0].bytes.count > 5 << 20)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
            let storage = try await Self.storage(scratch: scratch, cache: true)
            guard case .s3(let s3Configuration) = storage.backend else { throw TestFailure("not s3") }

            try await withLiveServer(dataDirectory: "\(scratch)/data", access: .init(enabled: false), storage: storage) { client, services in
                let port = try #require(client.port)
                let remote = "docker://127.0.0.1:\(port)/s3/image:v1"
                try await skopeo.copy("oci:\(source):v1", remote)
                let out = "\(scratch)/dir-out"
                try await skopeo.copy(remote, "dir:\(out)")
                #expect(LiveKuraRegistry.fileBytes("\(out)/manifest.json") == image.manifest.bytes)
                for blob in image.referencedBlobs {
                    #expect(LiveKuraRegistry.fileBytes("\(out)/\(blob.hex)") == blob.bytes, "blob \(blob.digest)")
                }

                // In the bucket: every blob's key is a small marker; the bytes live in the
                // objects the uploads wrote, under .kura/objects/.
                let bucket = S3Backend(configuration: s3Configuration)
                for blob in image.allBlobs {
                    let key = ObjectKey(blob: blob.digest)
                    #expect(try await bucket.stat(key)?.size == Int64(blob.bytes.count), "\(blob.digest)")
                }
                let markers = try await bucket.list(prefix: "blobs/", startAfter: nil, limit: 100).objects
                #expect(markers.count == image.allBlobs.count)
                #expect(markers.allSatisfy { $0.size < 512 }, "markers are small: \(markers.map(\.size))")
                var dataConfiguration = s3Configuration
                dataConfiguration.keyPrefix += ".kura/objects/"
                let data = try await S3Backend(configuration: dataConfiguration).list(prefix: "", startAfter: nil, limit: 100).objects
                #expect(data.count == image.allBlobs.count)
                #expect(data.map(\.size).reduce(0, +) == Int64(image.allBlobs.map(\.bytes.count).reduce(0, +)))
                _ = try Self.s3Backend(services)
            }
        }
    }

    @Test("A commit sends the blob's bytes to S3 once and copies nothing, monolithic or chunked")
    func commitCostsNoCopy() async throws {
        try await withTemporaryDirectory { scratch in
            let storage = try await Self.storage(scratch: scratch)
            try await withLiveServer(dataDirectory: "\(scratch)/data", access: .init(enabled: false), storage: storage) { client, services in
                let s3 = try Self.s3Backend(services)
                let mib = 1 << 20

                // Monolithic: POST with the whole body.
                let whole = testBytes(12 * mib, seed: 3)
                let before = s3.requestStatistics.snapshot
                try await client.pushBlob(whole, to: "s3/monolithic")
                let monolithic = s3.requestStatistics.snapshot.since(before)
                #expect(monolithic["CopyObject"] == 0, "\(monolithic)")
                #expect(monolithic["UploadPart"] >= 2, "\(monolithic)")
                // The bytes once, plus a few small XML bodies and markers.
                #expect(monolithic.bytesSent >= Int64(whole.count))
                #expect(monolithic.bytesSent < Int64(whole.count) + 64 * 1024, "\(monolithic)")

                // Chunked: POST, two PATCHes, PUT with the last chunk.
                let chunked = testBytes(14 * mib, seed: 4)
                let digest = sha256(chunked)
                let start = s3.requestStatistics.snapshot
                let post = try await client.execute(uri: "/v2/s3/chunked/blobs/uploads/", method: .post)
                #expect(post.status == .accepted)
                var location = try #require(post.headers[.location])
                for (index, range) in [(0, 0..<(6 * mib)), (1, (6 * mib)..<(12 * mib))] {
                    let patch = try await client.execute(
                        uri: location, method: .patch,
                        headers: [
                            .contentType: "application/octet-stream",
                            .contentRange: "\(range.lowerBound)-\(range.upperBound - 1)",
                        ], body: ByteBuffer(bytes: chunked[range]))
                    #expect(patch.status == .accepted, "chunk \(index)")
                    location = try #require(patch.headers[.location])
                }
                let separator = location.contains("?") ? "&" : "?"
                let put = try await client.execute(
                    uri: "\(location)\(separator)digest=\(digest)", method: .put,
                    headers: [.contentType: "application/octet-stream", .contentRange: "\(12 * mib)-\(14 * mib - 1)"],
                    body: ByteBuffer(bytes: chunked[(12 * mib)...]))
                #expect(put.status == .created)
                let cost = s3.requestStatistics.snapshot.since(start)
                #expect(cost["CopyObject"] == 0, "\(cost)")
                // Every chunk's bytes leave once (plus the session state saved after each chunk,
                // which is a few hundred bytes).
                #expect(cost.bytesSent >= Int64(chunked.count))
                #expect(cost.bytesSent < Int64(chunked.count) + 64 * 1024, "\(cost)")

                let pulled = try await client.execute(uri: "/v2/s3/chunked/blobs/\(digest)", method: .get)
                #expect(pulled.status == .ok)
                #expect(pulled.bytes == chunked)
            }
        }
    }

    @Test("A second pull of a layer is served from the cache: a cache hit and no S3 GET")
    func secondPullHitsTheCache() async throws {
        try await withTemporaryDirectory { scratch in
            let storage = try await Self.storage(scratch: scratch, cache: true)
            try await withLiveServer(dataDirectory: "\(scratch)/data", access: .init(enabled: false), storage: storage) { client, services in
                let s3 = try Self.s3Backend(services)
                let tiered = try #require(services.registry.blobs.backend as? TieredBackend)
                let bytes = testBytes(3 << 20, seed: 5)
                let digest = try await client.pushBlob(bytes, to: "s3/cached")

                let first = try await client.execute(uri: "/v2/s3/cached/blobs/\(digest)", method: .get)
                #expect(first.bytes == bytes)
                let afterFirst = (s3: s3.requestStatistics.snapshot, cache: tiered.statistics)
                #expect(afterFirst.cache.fills >= 1)

                let second = try await client.execute(uri: "/v2/s3/cached/blobs/\(digest)", method: .get)
                #expect(second.bytes == bytes)
                let s3Delta = s3.requestStatistics.snapshot.since(afterFirst.s3)
                #expect(s3Delta["GetObject"] == 0, "\(s3Delta)")
                #expect(tiered.statistics.hits == afterFirst.cache.hits + 1)
                #expect(tiered.statistics.bytesFromCache - afterFirst.cache.bytesFromCache == Int64(bytes.count))
            }
        }
    }

    @Test("Pulling more than the cache holds keeps it within its byte bound, and every pull is whole")
    func cacheStaysWithinItsBound() async throws {
        try await withTemporaryDirectory { scratch in
            let bound: Int64 = 8 << 20
            let storage = try await Self.storage(scratch: scratch, cache: true, cacheBytes: bound)
            try await withLiveServer(dataDirectory: "\(scratch)/data", access: .init(enabled: false), storage: storage) { client, services in
                let tiered = try #require(services.registry.blobs.backend as? TieredBackend)
                var blobs: [(Digest, [UInt8])] = []
                for seed in 20..<26 {
                    let bytes = testBytes(3 << 20, seed: UInt64(seed))
                    blobs.append((try await client.pushBlob(bytes, to: "s3/bounded"), bytes))
                }
                // Twice round, so later pulls find earlier blobs evicted and fetch them again.
                for (digest, bytes) in blobs + blobs {
                    let response = try await client.execute(uri: "/v2/s3/bounded/blobs/\(digest)", method: .get)
                    #expect(response.status == .ok)
                    #expect(response.bytes == bytes)
                    let onDisk = Self.bytesOnDisk("\(scratch)/cache")
                    #expect(onDisk <= bound, "the cache holds \(onDisk) bytes, bound \(bound)")
                }
                #expect(tiered.statistics.evictions >= 6)
                #expect(tiered.statistics.fills >= 8)
            }
        }
    }

    /// Bytes in regular files under `path`.
    static func bytesOnDisk(_ path: String) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let relative = walker.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: "\(path)/\(relative)")
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += (attributes?[.size] as? Int64) ?? 0 }
        }
        return total
    }

    @Test("With redirects on, a blob GET answers 307 to a presigned URL that serves the bytes (and ranges); skopeo follows it")
    func pullsRedirectToPresignedURLs() async throws {
        try #require(SkopeoRunner.isInstalled, "needs /usr/bin/skopeo (scripts/install-deps)")
        try await withTemporaryDirectory { scratch in
            let storage = try await Self.storage(scratch: scratch, redirectSeconds: 120)
            let seaweed = try await SeaweedFS.shared
            try await withLiveServer(dataDirectory: "\(scratch)/data", access: .init(enabled: false), storage: storage) { client, services in
                let bytes = testBytes(200_000, seed: 6)
                let digest = try await client.pushBlob(bytes, to: "s3/redirected")

                let head = try await client.execute(uri: "/v2/s3/redirected/blobs/\(digest)", method: .head)
                #expect(head.status == .ok)
                #expect(head.headers[.contentLength] == String(bytes.count))

                let get = try await client.execute(uri: "/v2/s3/redirected/blobs/\(digest)", method: .get)
                #expect(get.status == .temporaryRedirect)
                #expect(get.headers[.testDockerContentDigest] == digest.description)
                let location = try #require(get.headers[.location])
                #expect(location.hasPrefix(seaweed.endpoint.absoluteString))
                #expect(location.contains("X-Amz-Signature="))

                let direct = try await HTTPClient.shared.execute(HTTPClientRequest(url: location), timeout: .seconds(30))
                #expect(direct.status == .ok)
                #expect(Array(try await direct.body.collect(upTo: 1 << 20).readableBytesView) == bytes)
                var ranged = HTTPClientRequest(url: location)
                ranged.headers.add(name: "Range", value: "bytes=1000-1999")
                let part = try await HTTPClient.shared.execute(ranged, timeout: .seconds(30))
                #expect(part.status == .partialContent)
                #expect(Array(try await part.body.collect(upTo: 1 << 20).readableBytesView) == Array(bytes[1000..<2000]))

                // A real client follows the redirect.
                let skopeo = try SkopeoRunner(scratch: scratch)
                let image = try await TestImage.make(.oci, architecture: "amd64", files: ["r.txt": "redirected\n"], scratch: scratch)
                let source = "\(scratch)/oci-source"
                try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
                let port = try #require(client.port)
                let remote = "docker://127.0.0.1:\(port)/s3/redirected-image:v1"
                try await skopeo.copy("oci:\(source):v1", remote)
                let out = "\(scratch)/dir-out"
                try await skopeo.copy(remote, "dir:\(out)")
                for blob in image.referencedBlobs {
                    #expect(LiveKuraRegistry.fileBytes("\(out)/\(blob.hex)") == blob.bytes, "blob \(blob.digest)")
                }
                _ = services
            }
        }
    }

    @Test("A wrong S3 secret stops the server at start with a clear error")
    func wrongSecretIsAClearStartupError() async throws {
        try await withTemporaryDirectory { scratch in
            let storage = try await Self.storage(scratch: scratch)
            guard case .s3(var s3) = storage.backend else { throw TestFailure("not s3") }
            s3.credentials = S3Credentials(accessKeyID: s3.credentials.accessKeyID, secretAccessKey: "not-the-secret")
            s3.maxAttempts = 1
            let configuration = ServerConfiguration(
                host: "127.0.0.1", port: 0, dataDirectory: "\(scratch)/data", access: .init(enabled: false),
                gc: .init(enabled: false), storage: .init(backend: .s3(s3)))
            do {
                _ = try await KuraServer.open(configuration, logger: .init(label: "test"))
                Issue.record("the server opened with a wrong secret")
            } catch {
                let message = "\(error)"
                #expect(message.contains("storage (s3) is not usable"), "\(message)")
                #expect(message.contains("SignatureDoesNotMatch") || message.contains("denied") || message.contains("403"), "\(message)")
            }
        }
    }
}
