import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// A mount's challenge names two scopes in one `scope` attribute, separated by a space;
/// some clients (the OCI conformance suite's) send it back as one `scope` parameter.
@Suite("Access: several scopes in one scope parameter")
struct TokenScopeListTests {
    @Test("A token asked for with two space-separated scopes in one parameter grants both: a cross-repository mount succeeds")
    func aSpaceSeparatedScopeListGrantsEveryScope() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let blob = testBytes(700, seed: 77)
            let pushed = try await client.execute(
                uri: "/v2/team/source/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
            #expect(pushed.status == .created)
            let mount = "/v2/team/target/blobs/uploads/?mount=\(sha256(blob))&from=team/source"
            let challenge = try await client.execute(uri: mount, method: .post)
            let header = try #require(challenge.headers[.wwwAuthenticate])
            #expect(header.contains("scope=\"repository:team/target:pull,push repository:team/source:pull\""), "\(header)")
            // The challenge's scope attribute as one parameter (the space as `+`).
            let issued = try await client.execute(
                uri: "/token?service=kura&scope=repository%3Ateam%2Ftarget%3Apull%2Cpush+repository%3Ateam%2Fsource%3Apull", method: .get,
                headers: root.basic)
            let token = try #require(issued.json?["token"] as? String, "\(issued.status)")
            let mounted = try await client.execute(uri: mount, method: .post, headers: [.authorization: "Bearer \(token)"])
            #expect(mounted.status == .created, "\(mounted.status) \(String(buffer: mounted.body))")
        }
    }
}
