import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
@testable import KuraServe
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

/// Two `kura serve` nodes sharing nothing but a PostgreSQL catalog (started by the tests)
/// and an S3 bucket (SeaweedFS): each with its own data folder, any node serves what
/// another stored, and a key, token or revocation made on one holds on the other.
@Suite("Two nodes on one PostgreSQL catalog", .serialized, .timeLimit(.minutes(5)))
struct PostgresNodesTests {
    /// Runs two nodes over a fresh database and bucket prefix; `body` gets both clients and
    /// root's key (printed by whichever node started first).
    static func withTwoNodes<T: Sendable>(
        _ body: @Sendable (_ first: any TestClientProtocol, _ second: any TestClientProtocol, _ root: TestKey, _ scratch: String) async throws -> T
    ) async throws -> T {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        do {
            let result = try await withTemporaryDirectory { scratch in
                let storage = try await S3StorageTests.storage(scratch: scratch)
                let catalog = ServerConfiguration.CatalogSettings(backend: .postgres(url: url, poolSize: 8))
                let access = ServerConfiguration.AccessSettings(enabled: true)
                return try await withLiveServer(
                    dataDirectory: "\(scratch)/node1", access: access, storage: storage, catalog: catalog
                ) { first, firstServices in
                    guard let credentials = firstServices.rootCredentials else { throw TestFailure("no root credentials on the first node") }
                    let root = TestKey(id: credentials.accessKeyID, secret: credentials.secretKey)
                    return try await withLiveServer(
                        dataDirectory: "\(scratch)/node2", access: access, storage: storage, catalog: catalog
                    ) { second, secondServices in
                        #expect(secondServices.rootCredentials == nil, "root exists already: the second node makes none")
                        return try await body(first, second, root, scratch)
                    }
                }
            }
            await PostgreSQLServer.dropDatabase(database)
            return result
        } catch {
            await PostgreSQLServer.dropDatabase(database)
            throw error
        }
    }

    @Test("skopeo pushes through one node and pulls through the other")
    func skopeoPushOnOnePullOnTheOther() async throws {
        try await Self.withTwoNodes { first, second, root, scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let image = try await TestImage.make(.oci, architecture: "amd64", files: ["hello.txt": "hello from node 1\n"], scratch: scratch)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
            let firstPort = try #require(first.port), secondPort = try #require(second.port)
            #expect(try await first.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let credentials = "--dest-creds=\(root.id):\(root.secret)"
            try await skopeo.copy("oci:\(source):v1", "docker://127.0.0.1:\(firstPort)/team/app:v1", options: [credentials])
            let out = "\(scratch)/dir-out"
            try await skopeo.copy(
                "docker://127.0.0.1:\(secondPort)/team/app:v1", "dir:\(out)", options: ["--src-creds=\(root.id):\(root.secret)"])
            #expect(LiveKuraRegistry.fileBytes("\(out)/manifest.json") == image.manifest.bytes)
            for blob in image.referencedBlobs {
                #expect(LiveKuraRegistry.fileBytes("\(out)/\(blob.hex)") == blob.bytes, "blob \(blob.digest)")
            }
            // The tag list is the same on both nodes.
            let tags = try await second.execute(uri: "/v2/team/app/tags/list", method: .get, headers: root.basic)
            #expect(tags.json?["tags"] as? [String] == ["v1"])
        }
    }

    @Test("A key made on one node works on the other, a token signed by one is accepted by the other, and a key disabled on one is refused by the other within a second (it was cached there)")
    func keysTokensAndRevocationAcrossNodes() async throws {
        try await Self.withTwoNodes { first, second, root, _ in
            #expect(try await first.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let ci = try await first.makeAccount("ci", root: root, grants: [("team", "manager")])
            // The secret's hash, made with node 1's HMAC key, checks on node 2.
            #expect(try await second.execute(uri: "/v2/", method: .get, headers: ci.basic).status == .ok)
            let issued = try await first.token(ci, scopes: ["repository:team/app:pull,push"])
            let token = try #require(issued.json?["token"] as? String)
            let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
            #expect(try await second.execute(uri: "/v2/team/app/tags/list", method: .get, headers: bearer).status != .unauthorized)

            let disabled = try await first.admin(.patch, "keys/\(ci.id)", as: root, json: "{\"status\":\"disabled\"}")
            #expect(disabled.status == .noContent, "\(disabled.status)")
            // The node that made the change refuses at once; the other when LISTEN/NOTIFY tells it.
            #expect(try await first.execute(uri: "/v2/", method: .get, headers: ci.basic).status == .unauthorized)
            try await Poll.until("node 2 refuses the disabled key", timeout: .seconds(1), interval: .milliseconds(10)) {
                try await second.execute(uri: "/v2/", method: .get, headers: ci.basic).status == .unauthorized ? true : nil
            }
            #expect(try await second.execute(uri: "/v2/team/app/tags/list", method: .get, headers: bearer).status == .unauthorized)
        }
    }

    @Test("A chunked upload started on one node takes its next chunk on the other and commits on the first")
    func aChunkedUploadMovesBetweenNodes() async throws {
        try await Self.withTwoNodes { first, second, root, _ in
            #expect(try await first.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let mib = 1 << 20
            let bytes = testBytes(12 * mib, seed: 18)
            let digest = sha256(bytes)
            let post = try await first.execute(uri: "/v2/team/app/blobs/uploads/", method: .post, headers: root.basic)
            #expect(post.status == .accepted)
            var location = try #require(post.headers[.location])
            // The first chunk on node 1, the second on node 2 (at least S3's 5 MiB part size each).
            for (client, range) in [(first, 0..<(6 * mib)), (second, (6 * mib)..<(11 * mib))] {
                var headers = root.basic
                headers[.contentType] = "application/octet-stream"
                headers[.contentRange] = "\(range.lowerBound)-\(range.upperBound - 1)"
                let patch = try await client.execute(
                    uri: location, method: .patch, headers: headers, body: ByteBuffer(bytes: bytes[range]))
                #expect(patch.status == .accepted, "chunk \(range): \(patch.status) \(String(buffer: patch.body))")
                location = try #require(patch.headers[.location])
            }
            // The status on node 2 knows the offset node 1 and node 2 wrote.
            let status = try await second.execute(uri: location, method: .get, headers: root.basic)
            #expect(status.status == .noContent && status.headers[.range] == "0-\(11 * mib - 1)")
            var headers = root.basic
            headers[.contentType] = "application/octet-stream"
            let separator = location.contains("?") ? "&" : "?"
            let put = try await first.execute(
                uri: "\(location)\(separator)digest=\(digest)", method: .put, headers: headers,
                body: ByteBuffer(bytes: bytes[(11 * mib)...]))
            #expect(put.status == .created, "\(put.status) \(String(buffer: put.body))")
            let pulled = try await second.execute(uri: "/v2/team/app/blobs/\(digest)", method: .get, headers: root.basic)
            #expect(pulled.status == .ok && pulled.bytes == bytes)
        }
    }
}
