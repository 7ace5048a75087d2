import AsyncHTTPClient
import Foundation
import Synchronization
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kura serve` as a real process: first start, credentials printed once, graceful shutdown.
@Suite("kura serve process", .serialized)
struct ServeProcessTests {
    /// The `kura` executable that `swift build --build-tests` (scripts/test) builds beside the
    /// tests: `KURA_EXECUTABLE` if set, else next to the test bundle (any `--scratch-path`),
    /// else the repository's `.build/debug/kura`.
    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["KURA_EXECUTABLE"] { return path }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for folder in [beside, beside.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("kura").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.appendingPathComponent(".build/debug/kura").path
    }

    /// A running `kura serve`; stdout and stderr go to files in the data folder's parent.
    final class Server: @unchecked Sendable {
        let process: ChildProcess
        let port: Int
        let stdoutPath: String
        let dataDirectory: String

        let metricsPort: Int

        let stderrPath: String

        /// `kura serve` on a free port; `listen: false` leaves the endpoints to `arguments`
        /// (a configuration file with `listeners:`).
        init(data: String, environment: [String: String] = [:], arguments: [String] = [], listen: Bool = true) throws {
            dataDirectory = data
            port = try SeaweedFS.freePorts(1)[0]
            metricsPort = try SeaweedFS.freePorts(1)[0]
            stdoutPath = "\(data).stdout-\(UUID().uuidString.prefix(6))"
            stderrPath = "\(data).stderr-\(UUID().uuidString.prefix(6))"
            guard FileManager.default.isExecutableFile(atPath: ServeProcessTests.executable) else {
                throw TestFailure("\(ServeProcessTests.executable) is missing: build it first (scripts/test runs swift build --build-tests)")
            }
            for path in [stdoutPath, stderrPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
                throw TestFailure("cannot create \(path)")
            }
            process = try ChildProcess.spawn(
                ServeProcessTests.executable,
                ["serve", "--data", data, "--log-level", "warning", "--metrics-listen", "127.0.0.1:\(metricsPort)"]
                    + (listen ? ["--listen", "127.0.0.1:\(port)"] : []) + arguments,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                standardOutput: .file(stdoutPath), standardError: .file(stderrPath))
        }

        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// Waits until `/v2/` answers (any status), at most 30 s.
        func waitUntilServing() async throws {
            for _ in 0..<300 {
                if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/v2/"), timeout: .seconds(2)) {
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    return
                }
                if let ended = process.termination { throw TestFailure("kura serve \(ended)") }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw TestFailure("kura serve did not answer within 30 s")
        }

        /// SIGTERM, then waits up to 30 s for the exit (SIGKILL after that). Returns the exit
        /// status, or 128 + the signal that ended it.
        func stop() async -> Int32 {
            await process.terminate(grace: .seconds(30)).shellStatus
        }
    }

    @Test
    func firstStartPrintsRootCredentialsOnce() async throws {
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            let first = try Server(data: data)
            try await first.waitUntilServing()
            let printed = first.stdout
            let logged = first.stderr
            _ = await first.stop()
            // stdout is a file here, not a terminal: the key is only in the data folder
            // (owner-only), and the log names that file.
            let file = try String(contentsOfFile: "\(data)/root-credentials", encoding: .utf8)
            let id = try #require(file.split(separator: "\n").first { $0.hasPrefix("access_key_id=") }?.dropFirst("access_key_id=".count))
            let secret = try #require(file.split(separator: "\n").first { $0.hasPrefix("secret_key=") }?.dropFirst("secret_key=".count))
            #expect(id.hasPrefix("KURA"))
            #expect(!printed.contains(String(secret)) && !logged.contains(String(secret)), "the secret is not printed when stdout is not a terminal")
            #expect(logged.contains("\(data)/root-credentials"), "a log line names the file: \(logged)")
            let mode = try FileManager.default.attributesOfItem(atPath: "\(data)/root-credentials")[.posixPermissions] as? Int
            #expect(mode == 0o600)

            // A restart prints nothing, and the key works.
            let second = try Server(data: data)
            try await second.waitUntilServing()
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(second.port)/v2/")
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString())
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 200)
            let anonymous = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(second.port)/v2/"), timeout: .seconds(10))
            #expect(anonymous.status.code == 401)
            #expect(anonymous.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer realm=") == true)
            // Prometheus metrics on the private listener count those requests.
            let metrics = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(second.metricsPort)/metrics"), timeout: .seconds(10))
            #expect(metrics.status.code == 200)
            let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
            #expect(text.contains("kura_http_requests_total"), "request counter exported")
            #expect(text.contains("kura_http_request_duration_seconds_bucket"), "latency histogram exported")
            _ = await second.stop()
            #expect(!second.stdout.contains("secret key"))
        }
    }

    @Test
    func sigtermFinishesRequestsInFlight() async throws {
        try await withTemporaryDirectory { scratch in
            let server = try Server(data: "\(scratch)/data", environment: ["KURA_ACCESS_ENABLED": "false"])
            try await server.waitUntilServing()
            // A slow upload: 8 MiB sent in pieces over about two seconds.
            let bytes = testBytes(8 << 20)
            let digest = sha256(bytes)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/v2/slow/app/blobs/uploads/?digest=\(digest)")
            request.method = .POST
            let pieces = stride(from: 0, to: bytes.count, by: 512 << 10).map { ByteBuffer(bytes: bytes[$0..<min($0 + (512 << 10), bytes.count)]) }
            request.body = .stream(SlowBody(pieces: pieces, delay: .milliseconds(120)), length: .known(Int64(bytes.count)))
            async let upload = HTTPClient.shared.execute(request, timeout: .seconds(60))
            try await Task.sleep(for: .milliseconds(400))
            // Shut down while the upload is in flight: it must still complete.
            async let status = server.stop()
            let response = try await upload
            #expect(response.status.code == 201)
            #expect(await status == 0)
            // And the blob is durably there for the next start.
            let again = try Server(data: "\(scratch)/data", environment: ["KURA_ACCESS_ENABLED": "false"])
            try await again.waitUntilServing()
            let get = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(again.port)/v2/slow/app/blobs/\(digest)"), timeout: .seconds(30))
            let body = try await get.body.collect(upTo: 16 << 20)
            #expect(Array(body.readableBytesView) == bytes)
            _ = await again.stop()
        }
    }
}

/// Buffers delivered with a pause between them, like a slow client.
/// How many pieces a ``SlowBody`` has handed to its client.
final class SentPieces: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

struct SlowBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let pieces: [ByteBuffer]
    let delay: Duration
    /// Counts the pieces handed to the client, for a test that acts once some are on their way.
    var sent: SentPieces? = nil

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<ByteBuffer>
        let delay: Duration
        let sent: SentPieces?
        mutating func next() async throws -> ByteBuffer? {
            guard let piece = remaining.popFirst() else { return nil }
            try await Task.sleep(for: delay)
            sent?.increment()
            return piece
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: pieces[...], delay: delay, sent: sent) }
}
