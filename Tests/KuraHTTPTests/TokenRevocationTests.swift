import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// A token stops working as soon as its key is disabled or deleted or the grant behind it
/// is removed, not when it expires.
@Suite("Token revocation")
struct TokenRevocationTests {
    private func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    private func pushToken(_ client: any TestClientProtocol, _ key: TestKey) async throws -> String {
        let response = try await client.token(key, scopes: ["repository:team/app:pull,push"])
        guard let token = response.json?["token"] as? String else { throw TestFailure("no token: \(response.status)") }
        return token
    }

    private func pushStatus(_ client: any TestClientProtocol, _ token: String, seed: UInt64) async throws -> HTTPResponse.Status {
        let blob = testBytes(100, seed: seed)
        return try await client.execute(
            uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: bearer(token), body: ByteBuffer(bytes: blob)
        ).status
    }

    @Test func disablingOrDeletingTheKeyRevokesItsTokens() async throws {
        try await withSecuredServer { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let key = try await client.makeAccount("builder", root: root, grants: [("team", "manager")])
            let token = try await pushToken(client, key)
            #expect(try await pushStatus(client, token, seed: 1) == .created)
            #expect(try await client.admin(.patch, "keys/\(key.id)", as: root, json: "{\"status\":\"disabled\"}").status == .noContent)
            #expect(try await pushStatus(client, token, seed: 2) == .unauthorized)
            #expect(try await client.execute(uri: "/v2/team/app/tags/list", method: .get, headers: bearer(token)).status == .unauthorized)

            let second = try await client.admin(.post, "accounts/builder/keys", as: root)
            let other = TestKey(id: try #require(second.json?["accessKeyID"] as? String), secret: try #require(second.json?["secretKey"] as? String))
            let otherToken = try await pushToken(client, other)
            #expect(try await pushStatus(client, otherToken, seed: 3) == .created)
            #expect(try await client.admin(.delete, "keys/\(other.id)", as: root).status == .noContent)
            #expect(try await pushStatus(client, otherToken, seed: 4) == .unauthorized)
        }
    }

    @Test func removingTheGrantRevokesTheTokensActions() async throws {
        try await withSecuredServer { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let key = try await client.makeAccount("builder", root: root, grants: [("team", "manager")])
            let token = try await pushToken(client, key)
            #expect(try await pushStatus(client, token, seed: 1) == .created)
            #expect(try await client.admin(.delete, "accounts/builder/grants/team", as: root).status == .noContent)
            let refused = try await pushStatus(client, token, seed: 2)
            #expect(refused == .forbidden || refused == .unauthorized, "a push after the grant went: \(refused)")
            // Downgraded to viewer: pulls go on, pushes do not.
            #expect(try await client.admin(.put, "accounts/builder/grants/team", as: root, json: "{\"role\":\"viewer\"}").status == .noContent)
            let pushed = try await pushStatus(client, token, seed: 3)
            #expect(pushed == .forbidden || pushed == .unauthorized)
            #expect(try await client.execute(uri: "/v2/team/app/blobs/\(sha256(testBytes(100, seed: 1)))", method: .get, headers: bearer(token)).status == .ok)
        }
    }
}
