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
import NIOHTTP1
import Testing

/// The object store goes away under Kura (a dedicated SeaweedFS, killed with SIGKILL and
/// started again): what was acknowledged survives, clients get errors rather than wrong
/// answers, and uploads resume.
@Suite("Kura on S3: the object store fails", .serialized, .timeLimit(.minutes(5)))
struct S3FaultTests {
    static func storage(_ seaweed: SeaweedFS) -> ServerConfiguration.StorageSettings {
        var s3 = seaweed.configuration(keyPrefix: "faults-\(UUID().uuidString.lowercased())/")
        // Few, quick retries: the outage is long on purpose and the test waits for the answer.
        s3.maxAttempts = 2
        s3.maxBackoff = .milliseconds(200)
        s3.requestTimeout = .seconds(5)
        // Bounds Kura's wait for a part upload or a commit well below the test client's
        // deadline, so a request that outlives it is Kura's fault, not a slow store's.
        s3.transferTimeout = .seconds(60)
        return ServerConfiguration.StorageSettings(backend: .s3(s3))
    }

    @Test("SeaweedFS stopped in the middle of a chunked upload: the failed chunk is refused, the upload resumes after the restart and commits the right digest")
    func chunkedUploadResumesAfterAnOutage() async throws {
        try await Self.withServerOnADedicatedStore { client, seaweed in
            let kura = PatientClient(port: try #require(client.port))
            let mib = 1 << 20
            let bytes = testBytes(16 * mib, seed: 11)
            let digest = sha256(bytes)
            func patch(_ location: String, _ range: Range<Int>) async throws -> PatientClient.Answer {
                try await kura.send(
                    .PATCH, location, headers: ["Content-Type": "application/octet-stream", "Content-Range": "\(range.lowerBound)-\(range.upperBound - 1)"],
                    body: bytes[range])
            }

            let post = try await kura.send(.POST, "/v2/faults/upload/blobs/uploads/")
            #expect(post.status == .accepted)
            let first = try await patch(try #require(post.headers.first(name: "Location")), 0..<(6 * mib))
            #expect(first.status == .accepted)
            let location = try #require(first.headers.first(name: "Location"))

            try await seaweed.stopAndWait()
            let failed = try await patch(location, (6 * mib)..<(12 * mib))
            #expect(failed.status == .serviceUnavailable)
            #expect(failed.errorCode == "UNAVAILABLE")
            // While the store is down, the session still reports what it acknowledged.
            let statusDuring = try await kura.send(.GET, location)
            #expect(statusDuring.status == .serviceUnavailable || statusDuring.headers.first(name: "Range") == "0-\(6 * mib - 1)")

            try await seaweed.restart()
            let status = try await kura.send(.GET, location)
            #expect(status.status == .noContent)
            #expect(status.headers.first(name: "Range") == "0-\(6 * mib - 1)")
            let second = try await patch(location, (6 * mib)..<(12 * mib))
            #expect(second.status == .accepted)
            let last = try #require(second.headers.first(name: "Location"))
            let separator = last.contains("?") ? "&" : "?"
            let put = try await kura.send(
                .PUT, "\(last)\(separator)digest=\(digest)",
                headers: ["Content-Type": "application/octet-stream", "Content-Range": "\(12 * mib)-\(16 * mib - 1)"],
                body: bytes[(12 * mib)...])
            #expect(put.status == .created)
            #expect(put.headers.first(name: "Docker-Content-Digest") == digest.description)
            let pulled = try await kura.send(.GET, "/v2/faults/upload/blobs/\(digest)")
            #expect(pulled.status == .ok)
            #expect(sha256(Array(pulled.body.readableBytesView)) == digest)
        }
    }

    @Test("SeaweedFS stopped during a pull: the client gets an error, never a short blob reported as complete; later pulls work again")
    func pullDuringAnOutageFails() async throws {
        try await Self.withServerOnADedicatedStore { client, seaweed in
            // Much larger than every socket buffer between SeaweedFS and the client, so
            // the stop lands while bytes are still to come from the store.
            let size = 96 << 20
            let bytes = testBytes(size, seed: 12)
            let digest = sha256(bytes)
            let kura = PatientClient(port: try #require(client.port))
            let path = "/v2/faults/pull/blobs/\(digest)"
            let pushed = try await kura.send(
                .POST, "/v2/faults/pull/blobs/uploads/?digest=\(digest)", headers: ["Content-Type": "application/octet-stream"],
                body: bytes[...])
            #expect(pushed.status == .created)

            // Start the pull, read a little, then the store dies.
            let response = try await kura.open(.GET, path)
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Length") == String(size))
            var received = 0
            var failure: (any Error)?
            var iterator = response.body.makeAsyncIterator()
            do {
                while let chunk = try await iterator.next() {
                    received += chunk.readableBytes
                    if received >= 1 << 20, seaweed.isRunning { seaweed.stop() }
                }
            } catch {
                failure = error
            }
            #expect(failure != nil, "the body ended cleanly after \(received) of \(size) bytes")
            #expect(received < size)
            try await seaweed.stopAndWait()

            // While it is down, a new pull is refused with a clear error (not a 404).
            let refused = try await kura.send(.GET, path)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorCode == "UNAVAILABLE")

            try await seaweed.restart()
            let pulled = try await kura.send(.GET, path)
            #expect(pulled.status == .ok)
            #expect(pulled.body.readableBytes == size)
            #expect(sha256(Array(pulled.body.readableBytesView)) == digest)
        }
    }

    /// A live Kura over its own SeaweedFS, which the test may stop and restart.
    static func withServerOnADedicatedStore(
        _ body: @Sendable (any TestClientProtocol, SeaweedFS.Server) async throws -> Void
    ) async throws {
        let seaweed = try await SeaweedFS.launch()
        defer { seaweed.stop() }
        try await withTemporaryDirectory { scratch in
            try await withLiveServer(
                dataDirectory: "\(scratch)/data", access: .init(enabled: false), storage: storage(seaweed.seaweed)
            ) { client, _ in try await body(client, seaweed) }
        }
    }
}

/// Requests to a live Kura with a deadline of minutes: the live test client gives up after
/// 20 s, which one request of a full run on 2 cores outlived (the run did not say which), and a
/// 96 MiB push or pull on a busy machine can take longer too. The suite's store settings bound
/// each of Kura's waits for SeaweedFS at 2 × 60 s, below this deadline.
private struct PatientClient {
    struct Answer {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer

        var errorCode: String? { ociErrorCode(body) }
    }

    let port: Int
    let deadline: TimeAmount = .seconds(150)

    /// The response with its head only, for a caller that reads the body at its own pace.
    func open(_ method: HTTPMethod, _ path: String, headers: [String: String] = [:], body: ArraySlice<UInt8>? = nil)
        async throws -> HTTPClientResponse
    {
        var request = HTTPClientRequest(url: path.hasPrefix("http") ? path : "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        return try await HTTPClient.shared.execute(request, timeout: deadline)
    }

    /// The whole response (bodies of up to 128 MiB).
    func send(_ method: HTTPMethod, _ path: String, headers: [String: String] = [:], body: ArraySlice<UInt8>? = nil) async throws -> Answer {
        let response = try await open(method, path, headers: headers, body: body)
        let collected = try await response.body.collect(upTo: 128 << 20)
        return Answer(status: response.status, headers: response.headers, body: collected)
    }
}
