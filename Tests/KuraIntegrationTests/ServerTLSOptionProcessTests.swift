import Foundation
import KuraServerTestSupport
import Testing

/// `kura admin` against `kura serve --tls-self-signed` (issue 15: it could not verify the
/// certificate): refused without trust, accepted with `--ca-cert FILE`, with `SSL_CERT_FILE`,
/// and with `--insecure` (which warns).
@Suite("kura admin over TLS", .serialized)
struct ServerTLSOptionProcessTests {
    @Test func caCertSSLCertFileAndInsecure() async throws {
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            let server = try ServeProcessTests.Server(data: data, arguments: ["--tls-self-signed"])
            do { try await check(server, data: data, scratch: scratch) } catch {
                _ = await server.stop()
                throw error
            }
            _ = await server.stop()
        }
    }

    private func check(_ server: ServeProcessTests.Server, data: String, scratch: String) async throws {
            let mirror = MirrorProcessTests()
            let credentials = try await Self.rootCredentials(data: data, server: server)
            let base = ["admin", "whoami", "--url", "https://127.0.0.1:\(server.port)", "--access-key-id=\(credentials.id)", "--secret-key=\(credentials.secret)"]  // = : a secret may start with "-"
            // Up once --insecure gets an answer.
            var insecure = try await mirror.kura(base + ["--insecure"], scratch: scratch)
            for _ in 0..<100 where insecure.status != 0 {
                try await Task.sleep(for: .milliseconds(200))
                insecure = try await mirror.kura(base + ["--insecure"], scratch: scratch)
            }
            #expect(insecure.status == 0, "\(insecure.stderr)")
            #expect(insecure.stderr.contains("--insecure"), "a warning says the certificate is not checked")
            #expect(insecure.stdout.contains("root"))

            let untrusted = try await mirror.kura(base, scratch: scratch)
            #expect(untrusted.status != 0)
            #expect(untrusted.stderr.contains("--ca-cert"), "the error says how to trust it: \(untrusted.stderr)")

            let certificate = "\(data)/tls/self-signed.crt"
            let trusted = try await mirror.kura(base + ["--ca-cert", certificate], scratch: scratch)
            #expect(trusted.status == 0, "\(trusted.stderr)")
            #expect(!trusted.stderr.contains("warning"))

            let fromEnvironment = try await mirror.kura(base, scratch: scratch, environment: ["SSL_CERT_FILE": certificate])
            #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")

            let missing = try await mirror.kura(base + ["--ca-cert", "\(scratch)/nope.crt"], scratch: scratch)
            #expect(missing.status != 0 && missing.stderr.contains("nope.crt"))
    }

    /// Root's key from `DATA/root-credentials` (written at first start).
    static func rootCredentials(data: String, server: ServeProcessTests.Server) async throws -> (id: String, secret: String) {
        for _ in 0..<300 {
            if let text = try? String(contentsOfFile: "\(data)/root-credentials", encoding: .utf8),
                let id = text.split(separator: "\n").first(where: { $0.hasPrefix("access_key_id=") })?.dropFirst("access_key_id=".count),
                let secret = text.split(separator: "\n").first(where: { $0.hasPrefix("secret_key=") })?.dropFirst("secret_key=".count)
            {
                return (String(id), String(secret))
            }
            guard server.process.isRunning else { throw TestFailure("kura serve exited: \(server.stderr)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("no root-credentials file in \(data)")
    }
}
