import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraMetadata
import KuraServerTestSupport
import NIOCore
import Testing

/// Namespace storage quotas: a push that would exceed one is refused with DENIED and leaves
/// nothing behind; content the namespace already holds is never refused.
@Suite struct QuotaTests {
    @Test func pushOverQuotaIsRefusedAndLeavesNothing() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir) { client, services, root in
                try await client.makeNamespace("team", root: root)
                let ci = try await client.makeAccount("ci", root: root, grants: [("team", "manager")])
                // Only root (or an account admin) sets quotas; bad values are refused.
                let byManager = try await client.admin(.put, "namespaces/team/quota", as: ci, json: "{\"maxBytes\":1}")
                #expect(byManager.status == .forbidden, "\(byManager.status) \(String(buffer: byManager.body))")
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":-1}").status == .badRequest)
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":\"3000\"}").status == .badRequest)
                #expect(try await client.admin(.put, "namespaces/nope/quota", as: root, json: "{\"maxBytes\":3000}").status == .notFound)
                let set = try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":3000}")
                #expect(set.status == .ok)
                #expect(set.json?["maxBytes"] as? Int == 3000)

                let a = testBytes(1000, seed: 11), b = testBytes(1500, seed: 12), c = testBytes(800, seed: 13)
                for blob in [a, b] {
                    #expect(try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(blob))", as: ci, body: blob).status == .created)
                }

                // C would make 3300 bytes: refused, monolithic and through a session.
                let refused = try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(c))", as: ci, body: c)
                #expect(refused.status == .forbidden)
                #expect(refused.errorCode == "DENIED")
                let message = String(buffer: refused.body)
                #expect(message.contains("quota") && message.contains("3000"))
                let started = try await client.v2(.post, "team/other/blobs/uploads/", as: ci)
                let path = v2Path(ofLocation: try #require(started.headers[.location]))
                #expect(try await client.v2(.patch, path, as: ci, headers: [.contentType: "application/octet-stream"], body: c).status == .accepted)
                let completed = try await client.v2(.put, "\(path)?digest=\(sha256(c))", as: ci, body: [])
                #expect(completed.status == .forbidden)
                #expect(completed.errorCode == "DENIED")

                // Nothing behind: no link, no repository, no session, no object, no bytes counted.
                #expect(try await client.v2(.head, "team/app/blobs/\(sha256(c))", as: ci).status == .notFound)
                #expect(try await client.v2(.get, path, as: ci).status == .notFound, "the session is gone")
                #expect(try await services.registry.blobs.stat(sha256(c)) == nil, "no object in storage")
                #expect(try await services.registry.catalog.metadata.repositoryExists(RepositoryName(parsing: "team/other")) == false)
                #expect(try await client.admin(.get, "namespaces/team/quota", as: ci).json?["physicalBytes"] as? Int == a.count + b.count)

                // Content the namespace already holds adds nothing: mounting A elsewhere passes.
                #expect(try await client.v2(.post, "team/other/blobs/uploads/?mount=\(sha256(a))&from=team/app", as: ci).status == .created)
                // A manifest that fits passes; the next one over the quota is refused, and not stored.
                let manifest = TestManifests.image(config: a, layers: [b])
                let fits = try await client.v2(.put, "team/app/manifests/v1", as: ci, headers: [.contentType: MediaType.ociManifest], body: manifest)
                #expect(fits.status == .created)
                let used = a.count + b.count + manifest.count
                let tighten = try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":\(used)}")
                #expect(tighten.json?["physicalBytes"] as? Int == used)
                let second = TestManifests.image(config: a, layers: [b], annotations: "{\"x\":\"y\"}")
                let over = try await client.v2(.put, "team/app/manifests/v2", as: ci, headers: [.contentType: MediaType.ociManifest], body: second)
                #expect(over.status == .forbidden)
                #expect(try await client.v2(.get, "team/app/manifests/v2", as: ci).status == .notFound)
                #expect(try await services.registry.blobs.stat(sha256(second)) == nil)
                // Re-pushing what is stored is fine at the limit; removing the quota lifts it.
                #expect(try await client.v2(.put, "team/app/manifests/v1b", as: ci, headers: [.contentType: MediaType.ociManifest], body: manifest).status == .created)
                #expect(try await client.admin(.delete, "namespaces/team/quota", as: root).status == .noContent)
                #expect(try await client.v2(.put, "team/app/manifests/v2", as: ci, headers: [.contentType: MediaType.ociManifest], body: second).status == .created)
            }
        }
    }
    /// Pushes arriving together, each on its own connection: each passes the early check
    /// (nothing is linked yet), so only the check made with the link decides. The stored
    /// bytes never exceed the quota, and exactly the pushes answered 201 are linked.
    @Test func concurrentPushesNeverExceedTheQuota() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir) { client, services, root in
                try await client.makeNamespace("team", root: root)
                let ci = try await client.makeAccount("ci", root: root, grants: [("team", "manager")])
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":3000}").status == .ok)
                let base = "http://127.0.0.1:\(try #require(client.port))/v2/"
                // Ten 1000-byte blobs into two repositories, half in one request, half through a session.
                let blobs = (0..<10).map { testBytes(1000, seed: 100 + UInt64($0)) }
                func repository(_ index: Int) -> String { index % 2 == 0 ? "team/a" : "team/b" }
                let results = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
                    for (index, blob) in blobs.enumerated() {
                        group.addTask {
                            let (status, body) = try await pushBlob(
                                blob, to: base + repository(index), as: ci, throughSession: index >= 5, base: base)
                            return (index, status, body)
                        }
                    }
                    return try await group.reduce(into: [Int: (status: Int, body: String)]()) { $0[$1.0] = ($1.1, $1.2) }
                }
                let admitted = Set(results.filter { $0.value.status == 201 }.keys)
                #expect(admitted.count == 3, "\(results)")
                for (index, result) in results where result.status != 201 {
                    #expect(result.status == 403 && result.body.contains("DENIED"), "push \(index): \(result)")
                }
                for (index, blob) in blobs.enumerated() {
                    let head = try await client.v2(.head, "\(repository(index))/blobs/\(sha256(blob))", as: ci)
                    #expect((head.status == .ok) == admitted.contains(index), "blob \(index): \(head.status)")
                }
                let stored = try await client.admin(.get, "namespaces/team/quota", as: ci).json?["physicalBytes"] as? Int
                #expect(stored == 3000)
                let sessions = services.registry.catalog.usage
                #expect(try await sessions.openUploadCount() == 0, "no session left open")
            }
        }
    }
}

/// Pushes `blob` into the repository at `repositoryURL` with a fresh request (on the shared
/// client's pool of connections): in one POST, or a session opened then completed by a PUT
/// with the bytes. The final status and body.
private func pushBlob(
    _ blob: [UInt8], to repositoryURL: String, as key: TestKey, throughSession: Bool, base: String
) async throws -> (Int, String) {
    let authorization = [("Authorization", basicAuthorization(key.id, key.secret))]
    var request: HTTPClientRequest
    if throughSession {
        let started = try await httpGet(HTTPClient.shared, repositoryURL + "/blobs/uploads/", headers: authorization, method: .POST)
        guard let location = started.headers.first(name: "Location") else { return (started.status, started.body) }
        let path = v2Path(ofLocation: location)
        request = HTTPClientRequest(url: base + path + (path.contains("?") ? "&" : "?") + "digest=\(sha256(blob))")
        request.method = .PUT
    } else {
        request = HTTPClientRequest(url: repositoryURL + "/blobs/uploads/?digest=\(sha256(blob))")
        request.method = .POST
    }
    request.headers.add(name: "Authorization", value: authorization[0].1)
    request.headers.add(name: "Content-Type", value: "application/octet-stream")
    request.body = .bytes(ByteBuffer(bytes: blob))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
}
