import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// A cross-repository mount through the token flow: the 401 challenge of
/// `POST …/uploads/?mount=&from=` names `repository:<from>:pull` beside the target's scope,
/// as distribution does, so a client asking only for the challenge's scopes can mount.
@Suite("Access: mount challenge")
struct MountChallengeTests {
    private func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    /// The scopes a `WWW-Authenticate: Bearer …,scope="a b"` challenge names.
    private func challengedScopes(_ response: TestResponse) throws -> [String] {
        let header = try #require(response.headers[.wwwAuthenticate])
        let start = try #require(header.range(of: "scope=\""))
        let rest = header[start.upperBound...]
        let end = try #require(rest.firstIndex(of: "\""))
        return rest[..<end].split(separator: " ").map(String.init)
    }

    private func token(_ client: any TestClientProtocol, _ key: TestKey, scopes: [String]) async throws -> String {
        let response = try await client.token(key, scopes: scopes)
        return try #require(response.json?["token"] as? String, "no token: \(response.status)")
    }

    @Test func aMountDrivenOnlyByTheChallengeMounts() async throws {
        try await withSecuredServer { client, root in
            try await client.makeNamespace("base", root: root)
            try await client.makeNamespace("team", root: root)
            let builder = try await client.makeAccount("builder", root: root, grants: [("team", "manager"), ("base", "viewer")])
            let outsider = try await client.makeAccount("outsider", root: root, grants: [("team", "manager")])
            let blob = testBytes(2048, seed: 51)
            let digest = sha256(blob)
            #expect(try await client.v2(.post, "base/lib/blobs/uploads/?digest=\(digest)", as: root, body: blob).status == .created)
            let mount = "/v2/team/app/blobs/uploads/?mount=\(digest)&from=base/lib"

            // No token: the challenge names both repositories.
            let challenge = try await client.execute(uri: mount, method: .post)
            #expect(challenge.status == .unauthorized)
            let scopes = try challengedScopes(challenge)
            #expect(Set(scopes) == ["repository:team/app:pull,push", "repository:base/lib:pull"])

            // A token for exactly those scopes mounts.
            let mounted = try await client.execute(uri: mount, method: .post, headers: bearer(try await token(client, builder, scopes: scopes)))
            #expect(mounted.status == .created)
            #expect(mounted.headers[.location]?.hasSuffix("/v2/team/app/blobs/\(digest)") == true)
            let reader = try await token(client, builder, scopes: ["repository:team/app:pull"])
            #expect(try await client.execute(uri: "/v2/team/app/blobs/\(digest)", method: .get, headers: bearer(reader)).bytes == blob)

            // A token for the target alone (what the challenge used to name): sent back for
            // one naming the source too, rather than into a full upload.
            let targetOnly = try await token(client, builder, scopes: ["repository:team/other:pull,push"])
            let again = try await client.execute(
                uri: "/v2/team/other/blobs/uploads/?mount=\(digest)&from=base/lib", method: .post, headers: bearer(targetOnly))
            #expect(again.status == .unauthorized)
            #expect(Set(try challengedScopes(again)) == ["repository:team/other:pull,push", "repository:base/lib:pull"])

            // An account that may not read the source gets an upload session, not a loop of challenges.
            let outsiderToken = try await token(client, outsider, scopes: scopes)
            let session = try await client.execute(uri: mount, method: .post, headers: bearer(outsiderToken))
            #expect(session.status == .accepted)
            #expect(session.headers[.location]?.contains("/blobs/uploads/") == true)
        }
    }
}
