import AsyncHTTPClient
import Foundation
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
@testable import KuraServe
import Testing

/// TLS listeners: HTTP/2 by ALPN, and certificates swapped without a restart.
@Suite("TLS listeners")
struct TLSListenerTests {
    /// A certificate for loopback under `directory`, plus a copy (`<name>.crt`) that stays
    /// when the served files are replaced.
    static func certificate(_ name: String, into files: ListenerConfiguration.TLSFiles, scratch: String) throws -> (fingerprint: String, copy: String) {
        let fingerprint = try SelfSignedCertificate.generate(
            hosts: ["localhost", "127.0.0.1"], certificatePath: files.certificatePath, keyPath: files.keyPath, commonName: "kura test \(name)")
        let copy = "\(scratch)/\(name).crt"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: files.certificatePath, toPath: copy)
        return (fingerprint, copy)
    }

    static func tlsConfiguration(_ data: String, files: ListenerConfiguration.TLSFiles, reloadSeconds: Int) -> ServerConfiguration {
        var configuration = ServerConfiguration(dataDirectory: data, access: .init(enabled: false), gc: .init(enabled: false))
        configuration.listeners = [ListenerConfiguration(name: "tls", host: "127.0.0.1", port: 0, tls: files)]
        configuration.tlsReloadIntervalSeconds = reloadSeconds
        return configuration
    }

    @Test
    func servesHTTP2AndSwapsTheCertificateForNewConnectionsOnly() async throws {
        try await withTemporaryDirectory { scratch in
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(scratch)/tls/server.crt", keyPath: "\(scratch)/tls/server.key")
            let first = try Self.certificate("first", into: files, scratch: scratch)
            let configuration = Self.tlsConfiguration("\(scratch)/data", files: files, reloadSeconds: 3600)
            try await withListeners(configuration) { ports, endpoints, _ in
                let url = "https://127.0.0.1:\(try #require(ports["tls"]))/v2/"
                let store = try #require(endpoints.certificates["tls"])
                #expect(store.fingerprint == first.fingerprint)

                try await withTLSClient(trusting: [first.copy]) { keepAlive in
                    let h2 = try await httpGet(keepAlive, url)
                    #expect(h2.status == 200)
                    #expect(h2.version.major == 2, "HTTP/2 negotiated by ALPN")
                    let h1 = try await withTLSClient(trusting: [first.copy], http1Only: true) { try await httpGet($0, url) }
                    #expect(h1.status == 200 && h1.version.major == 1, "HTTP/1.1 still served")

                    // New files, then a reload: new handshakes see the new certificate.
                    let second = try Self.certificate("second", into: files, scratch: scratch)
                    #expect(second.fingerprint != first.fingerprint)
                    #expect(try store.reload())
                    #expect(store.fingerprint == second.fingerprint)
                    #expect(try await withTLSClient(trusting: [second.copy]) { try await httpGet($0, url).status } == 200)
                    await #expect(throws: (any Error).self, "a new connection no longer gets the first certificate") {
                        // (The client retries a failed handshake until its deadline.)
                        try await withTLSClient(trusting: [first.copy]) { _ = try await httpGet($0, url, timeout: .seconds(2)) }
                    }
                    // The connection opened before the reload is still up: it can only have
                    // answered on that connection, since a new handshake would be refused.
                    #expect(try await httpGet(keepAlive, url).status == 200)
                }
            }
        }
    }

    @Test
    func changedFilesAreReloadedAndBrokenOnesIgnored() async throws {
        try await withTemporaryDirectory { scratch in
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(scratch)/tls/server.crt", keyPath: "\(scratch)/tls/server.key")
            _ = try Self.certificate("first", into: files, scratch: scratch)
            var configuration = Self.tlsConfiguration("\(scratch)/data", files: files, reloadSeconds: 1)
            configuration.usage.enabled = false  // so the certificate reloader is the clock's only sleeper
            let clock = ManualClock()
            try await withListeners(configuration, clock: clock) { ports, endpoints, _ in
                let url = "https://127.0.0.1:\(try #require(ports["tls"]))/v2/"
                let store = try #require(endpoints.certificates["tls"])
                let second = try Self.certificate("second", into: files, scratch: scratch)
                #expect(await clock.waitForSleepers(), "the reloader polls on the clock")
                // One poll interval passes: the poll picks up the new files.
                await clock.advanceAndSettle(by: .seconds(1))
                #expect(store.fingerprint == second.fingerprint, "the poll picked up the new files")
                #expect(try await withTLSClient(trusting: [second.copy]) { try await httpGet($0, url).status } == 200)

                // A key that is not PEM: the server keeps the certificate it has.
                try Data("not a key".utf8).write(to: URL(fileURLWithPath: files.keyPath))
                #expect(throws: TLSCertificateStore.LoadError.self) { try store.reload() }
                // Polls that find the broken files keep the certificate in service.
                for _ in 0..<3 { await clock.advanceAndSettle(by: .seconds(1)) }
                #expect(store.fingerprint == second.fingerprint)
                #expect(try await withTLSClient(trusting: [second.copy]) { try await httpGet($0, url).status } == 200)
            }
        }
    }

    @Test
    func startupRefusesAKeyThatDoesNotFitTheCertificate() async throws {
        try await withTemporaryDirectory { scratch in
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(scratch)/a.crt", keyPath: "\(scratch)/a.key")
            try SelfSignedCertificate.generate(hosts: ["localhost"], certificatePath: files.certificatePath, keyPath: files.keyPath)
            try SelfSignedCertificate.generate(hosts: ["localhost"], certificatePath: "\(scratch)/b.crt", keyPath: files.keyPath)
            do {
                _ = try TLSCertificateStore(files: files)
                Issue.record("a mismatched key was accepted")
            } catch {
                #expect("\(error)".contains("does not fit"), "\(error)")
            }
        }
    }
}

/// skopeo (a Go client: TLS verification, HTTP/2 by ALPN) against a TLS listener whose
/// certificate the test made, before and after a reload.
@Suite("skopeo over TLS", .serialized)
struct SkopeoTLSTests {
    @Test
    func copiesInAndOutAcrossACertificateReload() async throws {
        try await withTemporaryDirectory { scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let image = try await TestImage.make(.oci, architecture: "amd64", files: ["hello.txt": "over TLS\n"], scratch: scratch)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(scratch)/tls/server.crt", keyPath: "\(scratch)/tls/server.key")
            // skopeo reads trusted CAs from `*.crt` in a folder.
            @Sendable func certDir(_ name: String) throws -> String {
                let directory = "\(scratch)/certs-\(name)"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: files.certificatePath, toPath: "\(directory)/ca.crt")
                return directory
            }
            try SelfSignedCertificate.generate(hosts: ["127.0.0.1"], certificatePath: files.certificatePath, keyPath: files.keyPath)
            let firstDir = try certDir("first")
            let configuration = TLSListenerTests.tlsConfiguration("\(scratch)/data", files: files, reloadSeconds: 3600)
            try await withListeners(configuration) { ports, endpoints, _ in
                let remote = "docker://127.0.0.1:\(try #require(ports["tls"]))/test/tls-image:v1"
                try await skopeo.run(["copy", "--preserve-digests", "--dest-cert-dir", firstDir, "oci:\(source):v1", remote])
                try await skopeo.run(["copy", "--src-cert-dir", firstDir, remote, "dir:\(scratch)/out-first"])
                #expect(LiveKuraRegistry.fileBytes("\(scratch)/out-first/manifest.json") == image.manifest.bytes)

                try SelfSignedCertificate.generate(hosts: ["127.0.0.1"], certificatePath: files.certificatePath, keyPath: files.keyPath)
                let secondDir = try certDir("second")
                #expect(try #require(endpoints.certificates["tls"]).reload())
                try await skopeo.run(["copy", "--src-cert-dir", secondDir, remote, "dir:\(scratch)/out-second"])
                #expect(LiveKuraRegistry.fileBytes("\(scratch)/out-second/manifest.json") == image.manifest.bytes)
                for blob in image.referencedBlobs {
                    #expect(LiveKuraRegistry.fileBytes("\(scratch)/out-second/\(blob.hex)") == blob.bytes, "blob \(blob.digest)")
                }
                await #expect(throws: ExternalProcessFailure.self, "the first certificate is no longer served") {
                    try await skopeo.run(["copy", "--src-cert-dir", firstDir, remote, "dir:\(scratch)/out-stale"])
                }
            }
        }
    }
}
