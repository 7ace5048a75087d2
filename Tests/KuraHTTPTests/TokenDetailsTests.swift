import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// Token and challenge details clients trip on (issue 15): `insufficient_scope` and
/// `invalid_token` in challenges, OAuth2 errors from `POST /token`, whole-second claims and
/// one `kid`, stable JSON key order, and `_catalog` without empty repositories.
@Suite struct TokenDetailsTests {
    private func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    private func token(_ response: TestResponse) throws -> String {
        guard let token = response.json?["token"] as? String else { throw TestFailure("no token: \(response.status) \(String(buffer: response.body))") }
        return token
    }

    private func form(_ client: any TestClientProtocol, _ text: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: text))
    }

    @Test func challengesSayWhatIsWrongWithTheToken() async throws {
        try await withSecuredServer { client, root in
            try await client.makeNamespace("team", root: root)
            let manager = try await client.makeAccount("manager", root: root, grants: [("team", "manager")])
            // No credentials: a plain challenge (RFC 6750: no error without credentials).
            let anonymous = try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate]?.contains("error=") == false)

            // A pull token used for a push: 403, insufficient_scope and the scope needed.
            let pull = try token(try await client.token(manager, scopes: ["repository:team/app:pull"]))
            let push = try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post, headers: bearer(pull))
            #expect(push.status == .forbidden)
            let challenge = try #require(push.headers[.wwwAuthenticate])
            #expect(challenge.contains("error=\"insufficient_scope\""), "\(challenge)")
            #expect(challenge.contains("scope=\"repository:team/app:pull,push\""), "\(challenge)")
            #expect(challenge.hasPrefix("Bearer realm=\""))
            // A token for another repository: the same, for this one.
            let other = try await client.execute(uri: "/v2/team/second/blobs/uploads/", method: .post, headers: bearer(pull))
            #expect(other.headers[.wwwAuthenticate]?.contains("scope=\"repository:team/second:pull,push\"") == true)
            // With the scope it asked for, the push goes through.
            let pushToken = try token(try await client.token(manager, scopes: ["repository:team/app:pull,push"]))
            #expect(try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post, headers: bearer(pushToken)).status == .accepted)

            // A bad token: 401 with invalid_token.
            for bad in ["not.a.token", String(pushToken.dropLast(4)) + "AAAA"] {
                let response = try await client.execute(uri: "/v2/team/app/tags/list", method: .get, headers: bearer(bad))
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.contains("error=\"invalid_token\"") == true)
            }
        }
    }

    @Test func tokenEndpointErrorsAreOAuth2s() async throws {
        try await withSecuredServer { client, root in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("grant_type=refresh_token&refresh_token=made-up&service=kura&client_id=test", .badRequest, "invalid_grant"),
                ("grant_type=refresh_token&service=kura", .badRequest, "invalid_request"),
                ("grant_type=password&username=\(root.id)&password=wrong&service=kura", .badRequest, "invalid_grant"),
                ("grant_type=password&service=kura", .badRequest, "invalid_request"),
                ("grant_type=client_credentials&service=kura", .badRequest, "unsupported_grant_type"),
                ("service=kura", .badRequest, "invalid_request"),
                ("grant_type=password&username=\(root.id)&password=\(root.secret)&service=elsewhere", .badRequest, "invalid_request"),
            ]
            for (body, status, code) in cases {
                let response = try await form(client, body)
                #expect(response.status == status, "\(body)")
                #expect(response.json?["error"] as? String == code, "\(body): \(String(buffer: response.body))")
                #expect((response.json?["error_description"] as? String)?.isEmpty == false)
                #expect(response.json?["token"] == nil, "no token for \(body)")
            }
            let good = try await form(client, "grant_type=password&username=\(root.id)&password=\(root.secret)&service=kura&scope=registry:catalog:*")
            #expect(good.status == .ok)
            #expect(try await client.execute(uri: "/v2/_catalog", method: .get, headers: bearer(try token(good))).status == .ok)
        }
    }

    @Test func claimsAreWholeSecondsWithOneKidAndJSONKeysAreSorted() async throws {
        try await withSecuredServer { client, root in
            let response = try await client.token(root, scopes: ["registry:catalog:*"])
            // Sorted keys: the same answer has the same shape on every call.
            #expect(String(buffer: response.body).hasPrefix("{\"access_token\":"), "\(String(buffer: response.body))")
            let parts = try token(response).split(separator: ".").map(String.init)
            let header = String(decoding: try #require(Data(base64URL: parts[0])), as: UTF8.self)
            let payload = String(decoding: try #require(Data(base64URL: parts[1])), as: UTF8.self)
            #expect(header.contains("\"kid\":\"kura-es256\""), "\(header)")
            #expect(!payload.contains("\"kid\""), "one kid, in the header: \(payload)")
            #expect(payload.contains("\"access_key_id\":\"\(root.id)\""), "\(payload)")
            for claim in ["iat", "exp", "nbf"] {
                #expect(payload.firstMatch(of: try Regex("\"\(claim)\":[0-9]+[,}]")) != nil, "\(claim) is a whole number: \(payload)")
            }
            // `issued_at` is RFC 3339 in UTC, to the second, and now.
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            let issuedAt = try #require(body["issued_at"] as? String)
            #expect(issuedAt.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/) != nil, "\(issuedAt)")
            let issued = try #require(ISO8601DateFormatter().date(from: issuedAt))
            #expect(abs(issued.timeIntervalSinceNow) < 600, "\(issuedAt)")
            // Error bodies, registry and admin, with sorted keys.
            let registryError = try await client.execute(uri: "/v2/Bad_Name/tags/list", method: .get, headers: root.basic)
            #expect(String(buffer: registryError.body).hasPrefix("{\"errors\":[{\"code\":"), "\(String(buffer: registryError.body))")
            let adminError = try await client.admin(.get, "accounts/nobody-here/keys", as: root)
            let adminText = String(buffer: adminError.body)
            #expect(adminText.hasPrefix("{\"errors\":[{\"code\":") && adminText.contains("\",\"message\":"), "\(adminText)")
            let again = try await client.admin(.get, "accounts/nobody-here/keys", as: root)
            #expect(String(buffer: again.body) == adminText)
        }
    }

    @Test func aRepositoryWithoutManifestsLeavesTheCatalog() async throws {
        try await withSecuredServer { client, root in
            try await client.makeNamespace("team", root: root)
            let config = testBytes(80, seed: 71)
            // Only a blob: not listed.
            try await client.v2(.post, "team/blobonly/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
            try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
            let manifest = TestManifests.image(config: config, layers: [])
            try await client.v2(.put, "team/app/manifests/v1", as: root, headers: [.contentType: MediaType.ociManifest], body: manifest)
                .expectStatus(.created)
            func catalog() async throws -> [String] {
                try await client.execute(uri: "/v2/_catalog", method: .get, headers: root.basic).json?["repositories"] as? [String] ?? []
            }
            #expect(try await catalog() == ["team/app"])
            try await client.v2(.delete, "team/app/manifests/\(sha256(manifest))", as: root).expectStatus(.accepted)
            #expect(try await catalog() == [], "its last manifest is gone")
        }
    }
}
