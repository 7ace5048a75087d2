import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraAccess
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

@Suite("Access: token flow, tampering, admin input, rate limits", .serialized)
struct TokenFlowTests {
    private func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    private func tokenString(_ response: TestResponse) throws -> String {
        guard let token = response.json?["token"] as? String else { throw TestFailure("no token: \(response.status) \(String(buffer: response.body))") }
        return token
    }

    @Test func dockerStyleLoginAndPush() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let manager = try await client.makeAccount("manager", root: root, grants: [("team", "manager")])
            let viewer = try await client.makeAccount("viewer", root: root, grants: [("team", "viewer")])

            // The challenge points at the token endpoint of the host the client used.
            let challenge = try await client.execute(uri: "/v2/", method: .get)
            #expect(challenge.status == .unauthorized)
            let header = try #require(challenge.headers[.wwwAuthenticate])
            #expect(header.hasPrefix("Bearer realm=\"http://"))
            #expect(header.contains("/token\",service=\"kura\""))

            // Login: a token for no scope, then /v2/ with it.
            let login = try tokenString(try await client.token(manager, scopes: []))
            #expect(try await client.execute(uri: "/v2/", method: .get, headers: bearer(login)).status == .ok)

            // A push needs a token carrying push on the repository.
            let blob = testBytes(500)
            let noScope = try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post, headers: bearer(login))
            #expect(noScope.status == .forbidden)
            #expect(noScope.headers[.wwwAuthenticate]?.contains("error=\"insufficient_scope\"") == true)
            #expect(noScope.headers[.wwwAuthenticate]?.contains("scope=\"repository:team/app:pull,push\"") == true)
            let pushToken = try await client.token(manager, scopes: ["repository:team/app:pull,push"])
            let access = (pushToken.json?["access"] as? [[String: Any]])
            #expect(access == nil)  // the grant is in the JWT, not the body
            let token = try tokenString(pushToken)
            let push = try await client.execute(
                uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: bearer(token), body: ByteBuffer(bytes: blob))
            #expect(push.status == .created)

            // A viewer asking for push gets a pull-only token; its push is refused for good.
            let viewerToken = try tokenString(try await client.token(viewer, scopes: ["repository:team/app:pull,push"]))
            let refused = try await client.execute(
                uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: bearer(viewerToken), body: ByteBuffer(bytes: blob))
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "DENIED")
            #expect(try await client.execute(uri: "/v2/team/app/blobs/\(sha256(blob))", method: .get, headers: bearer(viewerToken)).status == .ok)

            // Wrong secret: no token.
            let wrong = try await client.token(TestKey(id: manager.id, secret: "nope"), scopes: [])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "UNAUTHORIZED")
        }
    }

    @Test func aKeyRemembersWhenItWasLastUsed() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            let ci = try await client.makeAccount("ci", root: root, grants: [])
            func lastUsed() async throws -> Any? {
                let listed = try await client.admin(.get, "accounts/ci/keys", as: root)
                let keys = try #require(try JSONSerialization.jsonObject(with: Data(listed.body.readableBytesView)) as? [[String: Any]])
                return try #require(keys.first { $0["accessKeyID"] as? String == ci.id })["lastUsedAt"]
            }
            #expect(try await lastUsed() == nil, "never used yet")
            let login = try await client.token(ci, scopes: [])
            #expect(login.status == .ok)
            #expect(try await lastUsed() != nil, "a login is a use")
            // A wrong secret is not a use of the key.
            let other = try await client.makeAccount("other", root: root, grants: [])
            #expect(try await client.token(TestKey(id: other.id, secret: "wrong"), scopes: []).status == .unauthorized)
            let listed = try await client.admin(.get, "accounts/other/keys", as: root)
            let keys = try #require(try JSONSerialization.jsonObject(with: Data(listed.body.readableBytesView)) as? [[String: Any]])
            #expect(keys.count == 1)
            #expect(keys.first?["lastUsedAt"] == nil)
        }
    }

    @Test func tamperedTokensAreRefused() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let viewer = try await client.makeAccount("viewer", root: root, grants: [("team", "viewer")])
            let blob = testBytes(64)
            _ = try await client.execute(
                uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
            let good = try tokenString(try await client.token(viewer, scopes: ["repository:team/app:pull"]))
            let uri = "/v2/team/app/blobs/\(sha256(blob))"
            #expect(try await client.execute(uri: uri, method: .get, headers: bearer(good)).status == .ok)

            // 1. The payload altered to add push (signature no longer matches).
            let parts = good.split(separator: ".").map(String.init)
            var payload = try #require(Data(base64URL: parts[1]))
            let text = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "[\"pull\"]", with: "[\"pull\",\"push\"]")
            #expect(text.contains("push"))
            payload = Data(text.utf8)
            let altered = [parts[0], payload.base64URLEncoded(), parts[2]].joined(separator: ".")
            // 2. Signed by another key; 3. expired; 4. for another service (audience).
            let otherKey = try await TokenService(privateKeyPEM: TokenService.generatePrivateKeyPEM())
            let foreign = try await otherKey.issue(account: "viewer", keyID: viewer.id, access: [.repository("team/app", [.pull])])
            // The server's own key, read from its data folder, is not reachable here; an expired or
            // wrong-audience token must therefore be made by a service with the same key, which
            // the next test does with the catalog's own keys.
            for (name, token) in [("altered payload", altered), ("other key", foreign), ("garbage", "a.b.c"), ("empty", "")] {
                let response = try await client.execute(uri: uri, method: .get, headers: bearer(token))
                #expect(response.status == .unauthorized, "\(name)")
                let push = try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post, headers: bearer(token))
                #expect(push.status == .unauthorized, "\(name) push")
            }
        }
    }

    @Test func expiredAndWrongAudienceTokensAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router, access: .init(enabled: true)) { client, services in
                let root = try #require(services.rootCredentials)
                let pem = try String(contentsOfFile: "\(dir)/keys/token-es256.pem", encoding: .utf8)
                let rootKey = TestKey(id: root.accessKeyID, secret: root.secretKey)
                #expect(try await client.admin(.post, "namespaces", as: rootKey, json: "{\"name\":\"team\"}").status == .created)
                let scope: [AccessScope] = [.repository("team/app", [.pull, .push])]
                let sameKey = try await TokenService(privateKeyPEM: pem)
                let valid = try await sameKey.issue(account: "root", keyID: nil, access: scope)
                #expect(try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post, headers: bearer(valid)).status == .accepted)
                let expired = try await sameKey.issue(account: "root", keyID: nil, access: scope, now: Date().addingTimeInterval(-3600))
                let otherService = try await TokenService(privateKeyPEM: pem, service: "elsewhere")
                let wrongAudience = try await otherService.issue(account: "root", keyID: nil, access: scope)
                let otherIssuer = try await TokenService(privateKeyPEM: pem, issuer: "mallory")
                let wrongIssuer = try await otherIssuer.issue(account: "root", keyID: nil, access: scope)
                let ghost = try await sameKey.issue(account: "nobody-here", keyID: nil, access: scope)
                for (name, token) in [("expired", expired), ("wrong audience", wrongAudience), ("wrong issuer", wrongIssuer), ("unknown account", ghost)] {
                    let response = try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post, headers: bearer(token))
                    #expect(response.status == .unauthorized, "\(name)")
                }
            }
        }
    }

    @Test func publicNamespacesAllowAnonymousPullOnly() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"pub\",\"public\":true}").status == .created)
            let blob = testBytes(99)
            _ = try await client.execute(uri: "/v2/pub/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
            let anonymous = try tokenString(try await client.token(nil, scopes: ["repository:pub/app:pull,push"]))
            #expect(try await client.execute(uri: "/v2/", method: .get, headers: bearer(anonymous)).status == .ok)
            #expect(try await client.execute(uri: "/v2/pub/app/blobs/\(sha256(blob))", method: .get, headers: bearer(anonymous)).status == .ok)
            #expect(try await client.execute(uri: "/v2/pub/app/blobs/\(sha256(blob))", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v2/pub/app/blobs/uploads/", method: .post, headers: bearer(anonymous)).status == .unauthorized)
            #expect(try await client.execute(uri: "/v2/_catalog", method: .get).status == .unauthorized)
        }
    }

    @Test func adminAPIRefusesBadInputAndChangesNothing() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            // team/app exists (a description is only for a repository the registry holds).
            let blob = testBytes(32, seed: 5)
            try await client.execute(uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
                .expectStatus(.created)
            let cases: [(HTTPRequest.Method, String, String?)] = [
                (.post, "namespaces", "{\"name\":\"team2\",\"owner\":\"x\"}"),  // unknown field
                (.post, "namespaces", "{\"name\":\"Bad!\"}"),
                (.post, "namespaces", "{\"name\":\"a/b\"}"),
                (.post, "namespaces", "{\"name\":42}"),
                (.post, "namespaces", "[1,2]"),
                (.post, "namespaces", "not json"),
                (.post, "accounts", "{\"name\":\"UPPER\"}"),
                (.post, "accounts", "{\"name\":\"ok\",\"admin\":\"yes\"}"),
                (.put, "accounts/root/grants/team", "{\"role\":\"owner\"}"),
                (.put, "repositories/team/app/description", "{\"short\":\"\(String(repeating: "x", count: 101))\"}"),
                (.put, "repositories/team/app/description", "{\"short\":\"ok\",\"full\":\"\(String(repeating: "y", count: 65 * 1024))\"}"),
                (.put, "repositories/team/app/description", "{\"short\":\"ok\",\"extra\":1}"),
                (.put, "repositories/Team/app/description", "{\"short\":\"ok\"}"),
                (.patch, "keys/\(root.id)", "{\"status\":\"sleeping\"}"),
                (.get, "audit?since=yesterday", nil),
            ]
            for (method, path, body) in cases {
                let response = try await client.admin(method, path, as: root, json: body)
                #expect(response.status == .badRequest || response.status == .contentTooLarge, "\(method) \(path): \(response.status)")
                let message = (response.json?["errors"] as? [[String: Any]])?.first?["message"] as? String ?? ""
                #expect(!message.isEmpty, "\(method) \(path) explains itself")
            }
            let namespaces = String(buffer: try await client.admin(.get, "namespaces", as: root).body)
            #expect(!namespaces.contains("team2") && !namespaces.contains("Bad"))
            #expect(try await client.admin(.get, "repositories/team/app/description", as: root).json?["short"] as? String == "")
            let accounts = String(buffer: try await client.admin(.get, "accounts", as: root).body)
            #expect(!accounts.contains("UPPER") && !accounts.contains("\"ok\""))
            // A valid edit works and is audited.
            #expect(try await client.admin(.put, "repositories/team/app/description", as: root, json: "{\"short\":\"An app\",\"full\":\"# App\\nDocs\"}").status == .ok)
            let audit = try await client.admin(.get, "audit?action=description.update", as: root)
            #expect(String(buffer: audit.body).contains("team/app"))
        }
    }

    @Test func keysRotateAndFailedLoginsAreLimited() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            let user = try await client.makeAccount("user", root: root, grants: [])
            // Up to two active keys; a third is refused until one is disabled.
            let second = try await client.admin(.post, "accounts/user/keys", as: root)
            #expect(second.status == .created)
            #expect(try await client.admin(.post, "accounts/user/keys", as: root).status == .conflict)
            #expect(try await client.admin(.patch, "keys/\(user.id)", as: root, json: "{\"status\":\"disabled\"}").status == .noContent)
            #expect(try await client.execute(uri: "/v2/", method: .get, headers: user.basic).status == .unauthorized)
            let keys = String(buffer: try await client.admin(.get, "accounts/user/keys", as: root).body)
            #expect(!keys.contains("secret"), "secrets are never listed")

            // Ten failures from one key id, then even the right secret waits.
            let victim = try await client.makeAccount("victim", root: root, grants: [])
            for _ in 0..<10 {
                #expect(try await client.execute(uri: "/v2/", method: .get, headers: TestKey(id: victim.id, secret: "guess").basic).status == .unauthorized)
            }
            let limited = try await client.execute(uri: "/v2/", method: .get, headers: victim.basic)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            let failures = try await client.admin(.get, "audit?action=login.failure", as: root)
            #expect(String(buffer: failures.body).contains(victim.id))
        }
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }

    func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
