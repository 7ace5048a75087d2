import AsyncHTTPClient
import Foundation
import KuraCore
import KuraHTTP
import KuraServe
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import NIOSSL
import Testing

@testable import KuraMirror

/// Blob reads of ``RegistryClient`` (used by pull-through caches and `kura mirror`): on the
/// client's own connections once it knows how to sign in, through async-http-client for the
/// answers those connections leave to it (a sign-in, a redirect, an error), and over https
/// with the TLS settings the client was given.
@Suite("registry client blob reads")
struct RegistryClientBlobReadTests {
    static func read(_ download: BlobDownload) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in download.body { bytes += buffer.readableBytesView }
        return bytes
    }

    @Test
    func afterSigningInBlobsAreReadOnTheClientsOwnConnection() async throws {
        try await withSecuredServer(autoCreate: true) { server, root in
            let blobs = [testBytes(3 << 20, seed: 41), testBytes(1 << 20, seed: 42), testBytes(5, seed: 43)]
            for blob in blobs {
                let pushed = try await server.execute(
                    uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
                #expect(pushed.status == .created)
            }
            let client = try server.registryClient(root)
            let reads = try #require(client.blobReads)
            // Nothing is known of the registry's sign-in yet: the own connection's anonymous GET
            // gets a 401, and async-http-client signs in (bearer token) and reads the blob.
            let first = try await client.openBlob("team/app", sha256(blobs[0]))
            #expect(!first.readsOwnConnection)
            #expect(first.length == Int64(blobs[0].count))
            #expect(try await Self.read(first) == blobs[0])
            // Then the token goes on the own connection, the one the 401 came on.
            for blob in blobs {
                let download = try await client.openBlob("team/app", sha256(blob))
                #expect(download.readsOwnConnection)
                #expect(download.length == Int64(blob.count))
                #expect(try await Self.read(download) == blob)
            }
            #expect(reads.connections.openedCount == 1, "one connection, kept between whole reads")
        }
    }

    @Test
    func aRedirectAndAMissingBlobAreLeftToTheHTTPClient() async throws {
        let upstream = FaultySourceRegistry(layerSize: 2 << 20)
        upstream.behaviour = .redirected
        try await upstream.serve { port in
            let client = RegistryClient(
                endpoint: try RegistryEndpoint(parsing: "http://127.0.0.1:\(port)"), retry: RetryPolicy(attempts: 1))
            let download = try await client.openBlob(FaultySourceRegistry.repository, sha256(upstream.layer))
            #expect(!download.readsOwnConnection, "the 307 was followed by async-http-client")
            #expect(try await Self.read(download) == upstream.layer)
            #expect(upstream.layerRequests == 2, "asked on the own connection, then again through the HTTP client")
            // A registry that redirects is asked through the HTTP client directly from then on.
            let again = try await client.openBlob(FaultySourceRegistry.repository, sha256(upstream.layer))
            #expect(!again.readsOwnConnection)
            #expect(try await Self.read(again) == upstream.layer)
            #expect(upstream.layerRequests == 3, "one request for the second read")

            await #expect {
                _ = try await client.openBlob(FaultySourceRegistry.repository, sha256(testBytes(10, seed: 44)))
            } throws: { error in
                guard case MirrorError.unexpectedStatus(let method, _, let status, _) = error else { return false }
                return method == "GET" && status == 404
            }
        }
    }

    @Test
    func overHTTPSTheClientsTLSSettingsCheckTheRegistry() async throws {
        try await withTemporaryDirectory { scratch in
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(scratch)/tls/server.crt", keyPath: "\(scratch)/tls/server.key")
            let certificate = try TLSListenerTests.certificate("blob-reads", into: files, scratch: scratch)
            let configuration = TLSListenerTests.tlsConfiguration("\(scratch)/data", files: files, reloadSeconds: 3600)
            try await withListeners(configuration) { ports, _, _ in
                let base = "https://127.0.0.1:\(try #require(ports["tls"]))"
                let tls = try tlsTrusting([certificate.copy])
                try await withTLSClient(trusting: [certificate.copy]) { http in
                    let blob = testBytes(2 << 20 + 3, seed: 45)
                    var push = HTTPClientRequest(url: "\(base)/v2/team/app/blobs/uploads/?digest=\(sha256(blob))")
                    push.method = .POST
                    push.body = .bytes(ByteBuffer(bytes: blob))
                    #expect(try await http.execute(push, timeout: .seconds(60)).status == .created)

                    let endpoint = try RegistryEndpoint(parsing: base)
                    let trusting = RegistryClient(endpoint: endpoint, httpClient: http, retry: RetryPolicy(attempts: 1), tls: tls)
                    let download = try await trusting.openBlob("team/app", sha256(blob))
                    #expect(download.readsOwnConnection)
                    #expect(try await Self.read(download) == blob)

                    // Without the settings the own connection checks against the system's roots.
                    let systemRoots = RegistryClient(endpoint: endpoint, httpClient: http, retry: RetryPolicy(attempts: 1))
                    await #expect(throws: NIOSSLError.self) { _ = try await systemRoots.openBlob("team/app", sha256(blob)) }
                }
            }
        }
    }
}
