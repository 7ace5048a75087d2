import AsyncHTTPClient
import Foundation
import HTTPTypes
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// `kura mirror` as a process between two `kura serve` processes; the target has access
/// control on and is signed into with its root key read from a password file.
@Suite("kura mirror process", .serialized)
struct MirrorProcessTests {
    struct Finished {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `kura` with `arguments` to completion (at most two minutes).
    func kura(_ arguments: [String], scratch: String, environment: [String: String] = [:]) async throws -> Finished {
        let result = try await ExternalProcess.run(
            ServeProcessTests.executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            scratch: scratch, timeout: .seconds(120), check: false)
        if result.status == 128 + SIGKILL {
            throw TestFailure("kura \(arguments.first ?? "") did not finish within two minutes")
        }
        return Finished(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    func request(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: ByteBuffer? = nil) async throws -> (Int, ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), try await response.body.collect(upTo: 16 << 20))
    }

    @Test
    func mirrorsBetweenTwoServeProcessesAndASecondRunCopiesNothing() async throws {
        try await withTemporaryDirectory { scratch in
            let source = try ServeProcessTests.Server(data: "\(scratch)/source", environment: ["KURA_ACCESS_ENABLED": "false"])
            let target = try ServeProcessTests.Server(data: "\(scratch)/target", environment: ["KURA_AUTO_CREATE_NAMESPACES": "true"])
            do {
                try await source.waitUntilServing()
                try await target.waitUntilServing()
                try await check(source: source, target: target, scratch: scratch)
            } catch {
                _ = await source.stop()
                _ = await target.stop()
                throw error
            }
            _ = await source.stop()
            _ = await target.stop()
        }
    }

    private func check(source: ServeProcessTests.Server, target: ServeProcessTests.Server, scratch: String) async throws {
        // stdout is not a terminal: root's key is only in the target's credentials file.
        let (id, secret) = try await ServerTLSOptionProcessTests.rootCredentials(data: target.dataDirectory, server: target)
        let passwordFile = "\(scratch)/target-secret"
        try "\(secret)\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let sourceURL = "http://127.0.0.1:\(source.port)"
        let targetURL = "http://127.0.0.1:\(target.port)"
        let images = try await MirrorSourceImages.push(repository: "team/app") { method, path, headers, body in
            try await request(HTTPMethod(rawValue: method.rawValue), sourceURL + path, headers: headers.map { ($0.name.rawName, $0.value) }, body: body).0
        }
        let arguments = ["mirror", "--from", sourceURL, "--to", targetURL, "--prefix", "team/", "--to-user", String(id), "--to-password-file", passwordFile, "--json"]

        let first = try await kura(arguments, scratch: scratch)
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let total = try #require(summary["total"] as? [String: Any])
        #expect(total["manifestsCopied"] as? Int == 6)
        #expect(total["blobsCopied"] as? Int == images.blobs.count)
        #expect((summary["failures"] as? [Any])?.isEmpty == true)
        #expect(first.stderr.contains("team/app: done"), "progress per repository on stderr")
        #expect(!first.stderr.contains(String(secret)) && !first.stdout.contains(String(secret)), "the secret is never printed")

        let basic = "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
        let accept = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest].joined(separator: ", ")
        for (tag, (bytes, mediaType)) in images.tagged {
            var get = HTTPClientRequest(url: "\(targetURL)/v2/team/app/manifests/\(tag)")
            get.headers.add(name: "Authorization", value: basic)
            get.headers.add(name: "Accept", value: accept)
            let response = try await HTTPClient.shared.execute(get, timeout: .seconds(30))
            #expect(response.headers.first(name: "Content-Type") == mediaType)
            #expect(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView) == bytes, "\(tag) byte for byte")
        }
        let (anonymous, _) = try await request(.GET, "\(targetURL)/v2/team/app/manifests/1.0.0")
        #expect(anonymous == 401, "the target has access control on")

        let second = try await kura(arguments, scratch: scratch)
        #expect(second.status == 0)
        let again = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        #expect((again["total"] as? [String: Any])?["bytesCopied"] as? Int == 0, "a second run copies zero bytes")
        #expect((again["total"] as? [String: Any])?["manifestsCopied"] as? Int == 0)

        // Bad input: a clear error, nothing copied.
        let bad = try await kura(["mirror", "--from", sourceURL, "--to", targetURL, "--repository", "team/app", "--semver", ">=one"], scratch: scratch)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("not a version"), "\(bad.stderr)")
        // Wrong credentials: the run fails and says why.
        try "wrong\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let refused = try await kura(arguments.filter { $0 != "--json" }, scratch: scratch)
        #expect(refused.status != 0)
        #expect((refused.stdout + refused.stderr).contains("unauthorized"), "\(refused.stdout) \(refused.stderr)")
    }
}
