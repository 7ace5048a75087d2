import AsyncHTTPClient
import Foundation
import KuraCore
@testable import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

/// Signature V4 against AWS's published examples (no server needed).
@Suite("S3 signing")
struct S3SignerTests {
    private static func date(_ s: String) -> Date { try! Date.ISO8601FormatStyle().parse(s) }

    /// The "get-vanilla" case of the AWS Signature Version 4 test suite.
    @Test func getVanillaHeaderSigning() {
        let signer = S3Signer(
            credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "service")
        let added = signer.sign(
            method: "GET", encodedPath: "/", query: [], headers: [("Host", "example.amazonaws.com")],
            payloadHash: S3Signer.emptyPayloadHash, date: Self.date("2015-08-30T12:36:00Z"))
        #expect(added.first { $0.0 == "x-amz-date" }?.1 == "20150830T123600Z")
        #expect(
            added.first { $0.0 == "Authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    /// The S3 documentation's "GET Object" example (header signing with a Range header).
    @Test func s3GetObjectHeaderSigning() {
        let signer = S3Signer(
            credentials: S3Credentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let added = signer.sign(
            method: "GET", encodedPath: "/test.txt", query: [],
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", S3Signer.emptyPayloadHash),
            ],
            payloadHash: S3Signer.emptyPayloadHash, date: Self.date("2013-05-24T00:00:00Z"))
        #expect(
            added.first { $0.0 == "Authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// The S3 documentation's presigned GET example (query-string authentication).
    @Test func s3PresignedGet() {
        let signer = S3Signer(
            credentials: S3Credentials(
                accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let query = signer.presignedQuery(
            method: "GET", encodedPath: "/test.txt", host: "examplebucket.s3.amazonaws.com", expires: 86400,
            date: Self.date("2013-05-24T00:00:00Z"))
        #expect(
            query
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func uriEncoding() {
        #expect(S3Signer.uriEncode("a b/c~d_e.f-g*") == "a%20b%2Fc~d_e.f-g%2A")
        #expect(S3Signer.encodePath("/bucket/blobs/sha256/ab/c d") == "/bucket/blobs/sha256/ab/c%20d")
    }

    @Test func listResponsesParse() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
            <Contents><Key>p/a&amp;b</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified><Size>12</Size></Contents>
            <Contents><Key>p/c</Key><LastModified>2024-05-01T10:00:00Z</LastModified><Size>0</Size><Owner><ID/></Owner></Contents>
            <IsTruncated>true</IsTruncated><NextContinuationToken>tok&lt;1&gt;</NextContinuationToken></ListBucketResult>
            """
        let result = try S3ListResult(xml: S3XMLElement.parse(Array(xml.utf8)))
        #expect(result.entries.map(\.key) == ["p/a&b", "p/c"])
        #expect(result.entries.map(\.size) == [12, 0])
        #expect(result.isTruncated)
        #expect(result.nextContinuationToken == "tok<1>")
    }
}

/// ``S3Backend`` against a real SeaweedFS (see ``SeaweedFS``), beyond the shared contract.
@Suite("S3Backend on SeaweedFS", .timeLimit(.minutes(3)))
struct S3BackendTests {
    @Test func multipartWithALargePartAndASmallLastPart() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend()
        let key = try ObjectKey("uploads/m/data")
        let bytes = testBytes(S3Backend.minimumPartSize + 1000)
        let handle = try await backend.beginAppend(key)
        let first = try await backend.appendPart(
            handle, number: 1, offset: 0, data: ByteBuffer(bytes: bytes[..<(S3Backend.minimumPartSize + 1)]))
        let second = try await backend.appendPart(
            handle, number: 2, offset: Int64(S3Backend.minimumPartSize + 1),
            data: ByteBuffer(bytes: bytes[(S3Backend.minimumPartSize + 1)...]))
        #expect(!first.etag.isEmpty && !second.etag.isEmpty)
        let listed = try await backend.listParts(handle)
        #expect(listed.map(\.number) == [1, 2])
        #expect(listed.map(\.size) == [Int64(S3Backend.minimumPartSize + 1), 999])
        #expect(try await backend.stat(key) == nil)
        try await backend.completeAppend(handle, parts: [first, second], size: Int64(bytes.count))
        #expect(try await backend.stat(key)?.size == Int64(bytes.count))
        #expect(try await collect(backend.get(key, range: nil).body) == bytes)
        let tail = Int64(bytes.count - 10)..<Int64(bytes.count)
        #expect(try await collect(backend.get(key, range: tail).body) == Array(bytes[Int(tail.lowerBound)...]))
    }

    @Test func publishWritesAMarkerAndCopiesNothing() async throws {
        let (backend, configuration) = try await SeaweedFS.makeBackend(prefix: "p")
        let bytes = testBytes(300_000)
        func staged(_ name: String) async throws -> ObjectKey {
            let key = try ObjectKey("uploads/\(name)/data")
            let handle = try await backend.beginAppend(key)
            let part = try await backend.appendPart(handle, number: 1, offset: 0, data: ByteBuffer(bytes: bytes))
            try await backend.completeAppend(handle, parts: [part], size: Int64(bytes.count))
            return key
        }
        let a = try await staged("a")
        let targetA = try #require(try await backend.resolveMarker(a)).target
        #expect(targetA.hasPrefix(".kura/objects/"))
        let key = try ObjectKey("blobs/sha256/ab/abcdef")
        #expect(try await backend.publish(a, to: key) == .created)
        // The key is a small marker naming the very object the upload wrote.
        let marker = try #require(try await backend.head(key.value)?.marker)
        #expect(marker == S3Backend.Marker(target: targetA, size: 300_000))
        #expect(try #require(try await backend.head(key.value)).size < 200)
        #expect(try await backend.head(targetA)?.size == 300_000)
        #expect(try await backend.stat(a) == nil)
        #expect(try await backend.stat(key)?.size == 300_000)
        #expect(try await collect(backend.get(key, range: 1000..<2000).body) == Array(bytes[1000..<2000]))
        // A fresh backend (empty cache) resolves the marker from the bucket.
        let fresh = S3Backend(configuration: configuration)
        #expect(try await collect(fresh.get(key, range: nil).body) == bytes)
        #expect(try await collect(fresh.get(key, range: 299_999..<300_000).body) == [bytes[299_999]])
        // A second publish of the same key discards its staged object and its bytes.
        let b = try await staged("b")
        let targetB = try #require(try await backend.resolveMarker(b)).target
        #expect(try await backend.publish(b, to: key) == .alreadyExisted)
        #expect(try await backend.head(targetB) == nil)
        #expect(try await backend.stat(b) == nil)
        #expect(try await backend.resolveMarker(key)?.target == targetA)
        // Deleting the key removes the marker and the bytes.
        #expect(try await backend.delete(key))
        #expect(try await backend.head(targetA) == nil)
        #expect(try await fresh.stat(key) == nil)
        await #expect(throws: StorageError.notFound(key)) { _ = try await fresh.get(key, range: nil) }
    }

    @Test func chunkedBlobUploadWithSmallChunks() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend()
        let store = BlobStore(backend: backend)
        let mib = 1 << 20
        let bytes = testBytes(12 * mib)
        let id = try await store.startUpload().id
        for index in 0..<11 {
            let status = try await store.appendUpload(
                id, at: Int64(index * mib), expectedLength: Int64(mib),
                body: ChunkedBody(Array(bytes[(index * mib)..<((index + 1) * mib)]), pieceSize: 256 * 1024))
            #expect(status.offset == Int64((index + 1) * mib))
        }
        // Parts are never smaller than 5 MiB; what is below that waits in a tail object.
        let tails = try await backend.list(prefix: "uploads/\(id)/tail", startAfter: nil, limit: 10).objects
        #expect(tails.count == 1)
        let info = try await store.commitUpload(
            id, expected: sha256(bytes), lastChunk: ChunkedBody(Array(bytes[(11 * mib)...])), lastChunkOffset: Int64(11 * mib))
        #expect(info == BlobInfo(digest: sha256(bytes), size: Int64(12 * mib)))
        #expect(try await collect(store.read(info.digest).body) == bytes)
        #expect(try await backend.list(prefix: "uploads/", startAfter: nil, limit: 10).objects.isEmpty)
    }

    @Test func anUploadSurvivesARestartWithAPendingTail() async throws {
        let (backend, configuration) = try await SeaweedFS.makeBackend()
        let mib = 1 << 20
        let bytes = testBytes(9 * mib + 12_345, seed: 7)
        let id: UploadID
        do {
            let first = BlobStore(backend: backend)
            id = try await first.startUpload().id
            _ = try await first.appendUpload(id, at: 0, body: ChunkedBody(Array(bytes[..<(6 * mib)]), pieceSize: mib))
            _ = try await first.appendUpload(id, at: Int64(6 * mib), body: ChunkedBody(Array(bytes[(6 * mib)..<(7 * mib + 5)])))
            // The client disconnects in the middle of the next chunk.
            await #expect(throws: FailingBody.Disconnected.self) {
                _ = try await first.appendUpload(id, at: Int64(7 * mib + 5), body: FailingBody(bytes: Array(bytes[(7 * mib + 5)..<(8 * mib)])))
            }
        }
        // Another process: new backend (empty caches) and store over the same bucket.
        let second = BlobStore(backend: S3Backend(configuration: configuration))
        #expect(try await second.uploadStatus(id).offset == Int64(7 * mib + 5))
        _ = try await second.appendUpload(id, at: Int64(7 * mib + 5), body: ChunkedBody(Array(bytes[(7 * mib + 5)...])))
        let info = try await second.commitUpload(id, expected: sha256(bytes), lastChunk: Optional<ChunkedBody>.none)
        #expect(info.digest == sha256(bytes))
        #expect(try await collect(second.read(sha256(bytes)).body) == bytes)
    }

    @Test func aClosedPortIsUnavailableWithinBoundedTime() async throws {
        // Bound and not listening, held for the whole test: refused, and no other test can
        // take the port meanwhile (a port found free and let go once answered a HEAD).
        let (closed, port) = try SeaweedFS.boundLoopbackSocket()
        defer { close(closed) }
        // async-http-client keeps retrying a refused connection until its connect timeout,
        // so one attempt against a closed port costs that timeout: 1 s here.
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout = .init(connect: .seconds(1), read: .seconds(5))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let backend = S3Backend(
            configuration: S3Configuration(
                endpoint: URL(string: "http://127.0.0.1:\(port)")!, bucket: "nothing",
                credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"), maxAttempts: 4,
                baseBackoff: .milliseconds(50), maxBackoff: .milliseconds(400)),
            httpClient: http)
        let started = ContinuousClock.now
        let error = await #expect(throws: StorageError.self) { _ = try await backend.stat(try ObjectKey("a/b")) }
        let elapsed = ContinuousClock.now - started
        try await http.shutdown()
        guard case .unavailable(let message) = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(message.contains("4 attempts"))
        // About 5 s on an idle machine; the bound is generous because the whole suite runs in
        // parallel on two cores. What matters is that it ends: retries are bounded.
        #expect(elapsed < .seconds(45))
    }

    @Test func aWrongSecretIsAClearError() async throws {
        let server = try await SeaweedFS.shared
        let (_, configuration) = try await SeaweedFS.makeBackend()
        var wrong = configuration
        wrong.credentials = S3Credentials(accessKeyID: server.credentials.accessKeyID, secretAccessKey: "not-the-secret")
        let backend = S3Backend(configuration: wrong)
        let error = await #expect(throws: StorageError.self) { try await backend.checkAccess() }
        #expect(String(describing: error).contains("access denied"))
        try await S3Backend(configuration: configuration).checkAccess()
    }

    @Test func presignedURLsWork() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend()
        let key = try ObjectKey("blobs/x")
        let bytes = testBytes(1000)
        try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
        let url = try await backend.presignedURL(for: key, expires: .seconds(60))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kura-curl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let fetched = try await ExternalProcess.run(
            "/usr/bin/curl", ["-sf", "--max-time", "30", "-o", "\(scratch)/body", url.absoluteString], scratch: scratch)
        #expect(fetched.status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(scratch)/body"))
        #expect(Array(data) == bytes)
    }

    @Test func largePutsGoMultipart() async throws {
        let (backend, _) = try await SeaweedFS.makeBackend { $0.singlePutLimit = 1 << 20; $0.partSize = S3Backend.minimumPartSize }
        let key = try ObjectKey("big")
        let bytes = testBytes(11 * (1 << 20) + 3)
        #expect(try await backend.put(key, body: ChunkedBody(bytes, pieceSize: 300_000)) == Int64(bytes.count))
        #expect(try await backend.stat(key)?.size == Int64(bytes.count))
        #expect(try await collect(backend.get(key, range: nil).body) == bytes)
    }
}
