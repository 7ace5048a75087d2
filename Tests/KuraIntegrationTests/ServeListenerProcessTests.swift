import AsyncHTTPClient
import Foundation
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kura serve` with `listeners:` from a YAML file, TLS reloaded on SIGHUP, and
/// `--tls-self-signed`, as real processes.
@Suite("kura serve listeners", .serialized)
struct ServeListenerProcessTests {
    /// Polls `url` with `client` until it answers (any status), at most 30 s.
    static func waitForAnswer(_ client: HTTPClient, _ url: String, server: ServeProcessTests.Server) async throws -> Int {
        for _ in 0..<300 {
            if let answer = try? await httpGet(client, url) { return answer.status }
            guard server.process.isRunning else { throw TestFailure("kura serve exited: \(server.stderr)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("no answer from \(url) within 30 s")
    }

    @Test
    func listenersFromTheConfigurationFileAndSIGHUPReload() async throws {
        try await withTemporaryDirectory { scratch in
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(scratch)/tls/server.crt", keyPath: "\(scratch)/tls/server.key")
            let first = try TLSListenerTests.certificate("first", into: files, scratch: scratch)
            let publicPort = try SeaweedFS.freePorts(1)[0]
            let privatePort = try SeaweedFS.freePorts(1)[0]
            let config = "\(scratch)/kura.yaml"
            try """
                tls:
                  reloadIntervalSeconds: 3600
                listeners:
                  - name: public
                    address: 127.0.0.1:\(publicPort)
                    apis: [v2]
                    anonymousPull: false
                    tls:
                      certificate: \(files.certificatePath)
                      key: \(files.keyPath)
                  - name: private
                    address: 127.0.0.2:\(privatePort)
                    apis: [v2, admin]
                    allow: [127.0.0.1/32, "::1"]
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let server = try ServeProcessTests.Server(data: "\(scratch)/data", arguments: ["--config", config], listen: false)
            let publicURL = "https://127.0.0.1:\(publicPort)/v2/"
            try await withTLSClient(trusting: [first.copy]) { client async throws in
                #expect(try await Self.waitForAnswer(client, publicURL, server: server) == 401)
                #expect(try await httpGet(client, "https://127.0.0.1:\(publicPort)/api/v1/whoami").status == 404, "no admin API on the public listener")
            }

            let request = "GET /api/v1/whoami HTTP/1.1\r\nHost: kura\r\nConnection: close\r\n\r\n"
            #expect(try await rawHTTPExchange(from: "127.0.0.3", to: "127.0.0.2", port: privatePort, request: request).isEmpty)
            #expect(try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.2", port: privatePort, request: request).hasPrefix("HTTP/1.1 401"))

            // New files and SIGHUP: the same process serves the new certificate.
            let second = try TLSListenerTests.certificate("second", into: files, scratch: scratch)
            let pid = server.process.pid
            kill(pid, SIGHUP)
            let status = try await withTLSClient(trusting: [second.copy]) { client in
                var status: Int?
                for _ in 0..<100 where status == nil {
                    status = try? await httpGet(client, publicURL).status
                    if status == nil { try await Task.sleep(for: .milliseconds(100)) }
                }
                return status
            }
            #expect(status == 401, "the new certificate is served after SIGHUP")
            #expect(server.process.isRunning && server.process.pid == pid, "no restart")
            #expect(await server.stop() == 0)
        }
    }

    @Test
    func tlsSelfSignedPrintsTheFingerprintOfWhatItServes() async throws {
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            let server = try ServeProcessTests.Server(data: data, environment: ["KURA_ACCESS_ENABLED": "false"], arguments: ["--tls-self-signed"])
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(data)/tls/self-signed.crt", keyPath: "\(data)/tls/self-signed.key")
            for _ in 0..<300 where !server.stdout.contains("fingerprint") { try await Task.sleep(for: .milliseconds(100)) }
            try await withTLSClient(trusting: [files.certificatePath]) { client async throws in
                #expect(try await Self.waitForAnswer(client, "https://127.0.0.1:\(server.port)/v2/", server: server) == 200)
            }
            let fingerprint = try TLSCertificateStore(files: files).fingerprint
            #expect(server.stdout.contains("SHA-256 fingerprint: \(fingerprint)"), "\(server.stdout)")
            let mode = try FileManager.default.attributesOfItem(atPath: files.keyPath)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(await server.stop() == 0)
        }
    }

    @Test
    func sighupWithoutTLSKeepsServing() async throws {
        try await withTemporaryDirectory { scratch in
            let server = try ServeProcessTests.Server(data: "\(scratch)/data", environment: ["KURA_ACCESS_ENABLED": "false"])
            try await server.waitUntilServing()
            server.process.signal(SIGHUP)
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.process.isRunning, "SIGHUP is trapped, not fatal")
            #expect(try await httpGet(HTTPClient.shared, "http://127.0.0.1:\(server.port)/v2/").status == 200)
            #expect(await server.stop() == 0)
        }
    }

    @Test(arguments: [
        ("listeners:\n  - address: 127.0.0.1:0\n    allow: [10.0.0.1/8]\n", "bits set after the prefix"),
        ("listeners:\n  - address: 127.0.0.1:0\n    apis: [v2, graphql]\n", "unknown API graphql"),
        ("listeners:\n  - name: a\n    address: nowhere\n", "listeners[a].address must be HOST:PORT"),
        ("listeners:\n  - address: 127.0.0.1:0\n    tls:\n      certificate: /x.crt\n", "tls needs certificate and key"),
        ("listen: 127.0.0.1:0\nlisteners:\n  - address: 127.0.0.1:0\n", "not both"),
        ("listeners:\n  - name: p\n    address: 127.0.0.1:0\n    allow: []\n", "listeners[p].allow is empty"),
        ("listeners:\n  - name: p\n    address: 127.0.0.1:0\n  - name: p\n    address: 127.0.0.1:1\n", "two listeners are named p"),
        ("listeners:\n  - address: 127.0.0.1:0\n    tls:\n      certificate: /nonexistent.crt\n      key: /nonexistent.key\n", "cannot read TLS certificate /nonexistent.crt"),
    ])
    func badListenerConfigurationIsRefusedClearly(_ yaml: String, _ message: String) async throws {
        try await Self.expectRefusal(yaml: yaml, message: message)
    }

    @Test
    func hostAndPortVariablesDoNotSilentlyMissAListenersList() async throws {
        try await Self.expectRefusal(
            yaml: "listeners:\n  - address: 127.0.0.1:0\n", environment: ["KURA_PORT": "5999"], message: "use KURA_LISTEN to replace them")
    }

    /// Starts `kura serve` with `yaml` and expects it to exit non-zero, saying `message`.
    static func expectRefusal(yaml: String, environment: [String: String] = [:], message: String) async throws {
        try await withTemporaryDirectory { scratch in
            let config = "\(scratch)/kura.yaml"
            try yaml.write(toFile: config, atomically: true, encoding: .utf8)
            let server = try ServeProcessTests.Server(
                data: "\(scratch)/data", environment: environment, arguments: ["--config", config], listen: false)
            for _ in 0..<300 where server.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!server.process.isRunning)
            #expect(await server.stop() != 0)
            #expect(server.stderr.contains(message), "\(server.stderr)")
        }
    }
}
