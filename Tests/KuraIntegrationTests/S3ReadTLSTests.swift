import Foundation
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

@testable import KuraStorage

/// Streamed S3 GETs over https (``StreamedReadConnections`` with TLS): the server's certificate is
/// verified, its name too, and a verified connection is kept for the next read.
@Suite("S3 reads over TLS", .timeLimit(.minutes(1)))
struct S3ReadTLSTests {
    @Test func readsVerifyTheServerAndItsNameAndKeepTheConnection() async throws {
        try await withTemporaryDirectory { scratch in
            let (certificate, key) = ("\(scratch)/peer.crt", "\(scratch)/peer.key")
            _ = try SelfSignedCertificate.generate(hosts: ["localhost"], certificatePath: certificate, keyPath: key)
            let server = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            let peer = try await ScriptedPeer(tls: server) { connection, request in .respond(body: "c\(connection)r\(request)") }
            defer { peer.stop() }
            var trusting = TLSConfiguration.makeClientConfiguration()
            trusting.trustRoots = .file(certificate)

            let reads = StreamedReadConnections(host: "localhost", port: peer.port, tls: trusting)
            #expect(try await Self.read(reads) == "c0r0")
            #expect(try await Self.read(reads) == "c0r1")
            #expect(reads.openedCount == 1)

            // The system's roots do not hold the certificate; the address is not a name it carries.
            let untrusted = StreamedReadConnections(host: "localhost", port: peer.port, tls: .makeClientConfiguration())
            await #expect(throws: NIOSSLError.self) { try await Self.read(untrusted) }
            let otherName = StreamedReadConnections(host: "127.0.0.1", port: peer.port, tls: trusting)
            await #expect(throws: NIOSSLExtraError.failedToValidateHostname) { try await Self.read(otherName) }
            #expect(peer.requests.count == 2, "a request reached a server that was not verified")
        }
    }

    static func read(_ reads: StreamedReadConnections) async throws -> String {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a", headers: ["host": "localhost"])
        let response = try await reads.open(head, readAhead: 1 << 20, deadline: .now() + .seconds(20))
        return String(buffer: try await response.stream.collect(upTo: 1 << 20))
    }
}
