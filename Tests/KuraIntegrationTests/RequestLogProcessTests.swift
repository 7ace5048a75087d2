import AsyncHTTPClient
import Foundation
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kura serve`'s log at the default level (issue 15): one line per request with status,
/// route, account, key id, bytes and duration; the reason of a refusal; no secret anywhere;
/// first-start credentials only in `DATA/root-credentials` when stdout is not a terminal,
/// with a log line naming the file.
@Suite("kura serve request log", .serialized)
struct RequestLogProcessTests {
    @Test func oneLinePerRequestWithTheReasonOfARefusalAndNoSecrets() async throws {
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            let server = try ServeProcessTests.Server(data: data, arguments: ["--log-level", "info"])
            do { try await check(server, data: data) } catch {
                _ = await server.stop()
                throw error
            }
            _ = await server.stop()
        }
    }

    private func check(_ server: ServeProcessTests.Server, data: String) async throws {
        try await server.waitUntilServing()
        let root = try await ServerTLSOptionProcessTests.rootCredentials(data: data, server: server)
        let base = "http://127.0.0.1:\(server.port)"
        func basic(_ id: String, _ secret: String) -> (String, String) { ("Authorization", "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()) }
        let mirror = MirrorProcessTests()
        #expect(try await mirror.request(.POST, "\(base)/api/v1/namespaces", headers: [basic(root.id, root.secret), ("Content-Type", "application/json")], body: ByteBuffer(string: "{\"name\":\"team\"}")).0 == 201)
        _ = try await mirror.request(.POST, "\(base)/api/v1/accounts", headers: [basic(root.id, root.secret)], body: ByteBuffer(string: "{\"name\":\"viewer\"}"))
        _ = try await mirror.request(.PUT, "\(base)/api/v1/accounts/viewer/grants/team", headers: [basic(root.id, root.secret)], body: ByteBuffer(string: "{\"role\":\"viewer\"}"))
        let (_, keyBody) = try await mirror.request(.POST, "\(base)/api/v1/accounts/viewer/keys", headers: [basic(root.id, root.secret)])
        let key = try #require(try JSONSerialization.jsonObject(with: Data(keyBody.readableBytesView)) as? [String: Any])
        let viewerID = try #require(key["accessKeyID"] as? String), viewerSecret = try #require(key["secretKey"] as? String)

        // A refused push (viewer) and a token request carrying the secret in a form body.
        let refused = try await mirror.request(.POST, "\(base)/v2/team/app/blobs/uploads/", headers: [basic(viewerID, viewerSecret)])
        #expect(refused.0 == 403)
        let form = "grant_type=password&service=kura&username=\(viewerID)&password=\(viewerSecret)&scope=repository:team/app:pull"
        let token = try await mirror.request(.POST, "\(base)/token", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: ByteBuffer(string: form))
        #expect(token.0 == 200)
        let tokenText = try #require((try JSONSerialization.jsonObject(with: Data(token.1.readableBytesView)) as? [String: Any])?["token"] as? String)
        #expect(try await mirror.request(.GET, "\(base)/v2/", headers: [("Authorization", "Bearer \(tokenText)")]).0 == 200)

        // The lines are written as the responses end: wait for the last one.
        var log = ""
        for _ in 0..<100 {
            log = server.stderr
            if log.contains("path=/v2/ ") || log.contains("path=/v2/\n") || log.split(separator: "\n").contains(where: { $0.contains("path=/v2/") && $0.contains("status=200") }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let lines = log.split(separator: "\n").map(String.init)
        let refusal = try #require(lines.first { $0.contains("status=403") && $0.contains("account=viewer") }, "\(log)")
        #expect(refusal.contains("keyID=\(viewerID)"))
        #expect(refusal.contains("route=/v2/{name}/blobs/uploads/") || refusal.contains("route=/v2/"), "\(refusal)")
        #expect(refusal.contains("reason=DENIED: viewer may not push team/app"), "\(refusal)")
        #expect(refusal.contains("role viewer"), "the rule that refused it: \(refusal)")
        #expect(refusal.contains("durationMs=") && refusal.contains("bytesOut="))
        #expect(refusal.contains(" info "), "at the default level")
        let requestLines = lines.filter { $0.contains("status=") && $0.contains("route=") }
        #expect(requestLines.count >= 7, "one line per request")
        #expect(lines.filter { $0.contains("status=403") && $0.contains("account=viewer") }.count == 1, "one line, not two")
        for secret in [root.secret, viewerSecret, tokenText] {
            #expect(!log.contains(secret), "no secret in the log")
            #expect(!server.stdout.contains(secret), "no secret on stdout (not a terminal)")
        }
        // First start without a terminal: the key only in the file, and a line naming it.
        #expect(lines.contains { $0.contains("\(data)/root-credentials") }, "a log line names the credentials file")
    }
}

/// On a terminal (a pty from util-linux `script`), the first start prints root's key once.
@Suite("kura serve first start on a terminal", .serialized)
struct FirstStartTerminalProcessTests {
    @Test func theKeyIsPrintedOnATerminal() async throws {
        let script = try ClientProcess.require("/usr/bin/script", package: "bsdutils")
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data", output = "\(scratch)/pty.out"
            let port = try SeaweedFS.freePorts(1)[0]
            let command = [ServeProcessTests.executable, "serve", "--data", data, "--listen", "127.0.0.1:\(port)", "--metrics-listen", "off", "--log-level", "warning"]
            let process = try ChildProcess.spawn(script, ["-qfec", command.joined(separator: " "), output], standardError: .inherit)
            var printed = ""
            for _ in 0..<300 where !printed.contains("secret key:") {
                printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                try await Task.sleep(for: .milliseconds(100))
            }
            // `script`'s child is kura serve; SIGTERM stops it (SIGHUP would not: it reloads TLS).
            let children = (try? String(contentsOfFile: "/proc/\(process.pid)/task/\(process.pid)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
            for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            await process.terminate()
            let file = try String(contentsOfFile: "\(data)/root-credentials", encoding: .utf8)
            let secret = try #require(file.split(separator: "\n").first { $0.hasPrefix("secret_key=") }?.dropFirst("secret_key=".count))
            #expect(printed.contains("secret key:    \(secret)"), "\(printed)")
        }
    }
}
