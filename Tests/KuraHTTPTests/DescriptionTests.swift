import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// Repository descriptions through the admin API (issue 19): a field absent from the body is
/// left as it is, an empty one clears it, and a repository that does not exist is
/// `NAME_UNKNOWN`, storing nothing.
@Suite struct DescriptionTests {
    private func description(_ client: any TestClientProtocol, as root: TestKey) async throws -> (short: String?, full: String?) {
        let json = try await client.admin(.get, "repositories/team/app/description", as: root).json
        return (json?["short"] as? String, json?["full"] as? String)
    }

    @Test func settingOneFieldKeepsTheOtherAndEmptyClears() async throws {
        try await withSecuredServer { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
            let blob = testBytes(64, seed: 3)
            try await client.execute(uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
                .expectStatus(.created)

            try await client.admin(.put, "repositories/team/app/description", as: root, json: "{\"short\":\"A\",\"full\":\"# Full A\"}").expectStatus(.ok)
            try await client.admin(.put, "repositories/team/app/description", as: root, json: "{\"short\":\"B\"}").expectStatus(.ok)
            var current = try await description(client, as: root)
            #expect(current.short == "B" && current.full == "# Full A", "setting short keeps full: \(current)")

            let answer = try await client.admin(.put, "repositories/team/app/description", as: root, json: "{\"full\":\"# Full C\"}").expectStatus(.ok)
            #expect(answer.json?["short"] as? String == "B", "the answer shows the description as stored")
            current = try await description(client, as: root)
            #expect(current.short == "B" && current.full == "# Full C", "setting full keeps short: \(current)")

            try await client.admin(.put, "repositories/team/app/description", as: root, json: "{\"short\":\"\"}").expectStatus(.ok)
            current = try await description(client, as: root)
            #expect(current.short == "" && current.full == "# Full C", "an explicit empty short clears only short: \(current)")

            // An empty object changes nothing and says why.
            let empty = try await client.admin(.put, "repositories/team/app/description", as: root, json: "{}")
            #expect(empty.status == .badRequest)
            #expect(try await description(client, as: root).full == "# Full C")
        }
    }

    @Test func aRepositoryThatDoesNotExistIsNameUnknown() async throws {
        try await withSecuredServer { client, root in
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"ret\"}").status == .created)
            let response = try await client.admin(.put, "repositories/ret/nope/description", as: root, json: "{\"short\":\"x\"}")
            #expect(response.status == .notFound)
            let error = (response.json?["errors"] as? [[String: Any]])?.first
            #expect(error?["code"] as? String == "NAME_UNKNOWN")
            let read = try await client.admin(.get, "repositories/ret/nope/description", as: root)
            #expect(read.json?["short"] as? String ?? "" == "", "nothing was stored")
        }
    }
}
