import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// Every kind of caller against every kind of operation, with the expected outcome, and a
/// check that refused operations changed nothing.
@Suite("Access: permission matrix", .serialized)
struct PermissionMatrixTests {
    enum Who: String, CaseIterable, CustomStringConvertible {
        case root, manager, viewer, outsider, disabled, deletedKey, wrongSecret, nobody
        var description: String { rawValue }
    }

    enum Outcome: Equatable {
        case ok(HTTPResponse.Status)
        case unauthorized  // 401
        case denied  // 403
    }

    struct Setup: Sendable {
        var keys: [String: TestKey]
        var layer: [UInt8]
        var config: [UInt8]
    }

    private func prepare(_ client: any TestClientProtocol, root: TestKey) async throws -> Setup {
        for namespace in ["team", "other"] {
            #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"\(namespace)\"}").status == .created)
        }
        var keys: [String: TestKey] = ["root": root]
        keys["manager"] = try await client.makeAccount("manager", root: root, grants: [("team", "manager")])
        keys["viewer"] = try await client.makeAccount("viewer", root: root, grants: [("team", "viewer")])
        keys["outsider"] = try await client.makeAccount("outsider", root: root, grants: [("other", "manager")])
        keys["disabled"] = try await client.makeAccount("disabled", root: root, grants: [("team", "manager")])
        #expect(try await client.admin(.patch, "accounts/disabled", as: root, json: "{\"disabled\":true}").status == .noContent)
        let doomed = try await client.makeAccount("keyless", root: root, grants: [("team", "manager")])
        #expect(try await client.admin(.delete, "keys/\(doomed.id)", as: root).status == .noContent)
        keys["deletedKey"] = doomed
        let guessed = try await client.makeAccount("guessed", root: root, grants: [("team", "manager")])
        keys["wrongSecret"] = TestKey(id: guessed.id, secret: "not-the-secret")

        // Content in team/app, pushed by root.
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\"}".utf8)
        let layer = testBytes(3000)
        for blob in [config, layer] {
            let response = try await client.execute(
                uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
            #expect(response.status == .created)
        }
        let manifest = TestManifests.image(config: config, layers: [layer])
        for tag in ["v1"] + Who.allCases.map({ "del-\($0)" }) {
            var headers = root.basic
            headers[.contentType] = MediaType.ociManifest
            #expect(try await client.execute(uri: "/v2/team/app/manifests/\(tag)", method: .put, headers: headers, body: ByteBuffer(bytes: manifest)).status == .created)
        }
        return Setup(keys: keys, layer: layer, config: config)
    }

    private func headers(_ who: Who, _ setup: Setup) -> HTTPFields { setup.keys[who.rawValue]?.basic ?? [:] }

    private func outcome(_ response: TestResponse) -> Outcome {
        switch response.status {
        case .unauthorized: .unauthorized
        case .forbidden: .denied
        default: .ok(response.status)
        }
    }

    @Test func everyCallerAgainstEveryOperation() async throws {
        // Each refused caller fails about a dozen logins here; rate limiting is tested elsewhere.
        try await withSecuredServer(mode: .router, loginFailuresPerKey: 1000) { client, root in
            let setup = try await prepare(client, root: root)
            let invalid: Set<Who> = [.disabled, .deletedKey, .wrongSecret, .nobody]
            func expect(_ who: Who, _ allowed: Set<Who>, _ success: HTTPResponse.Status) -> Outcome {
                if allowed.contains(who) { return .ok(success) }
                return invalid.contains(who) ? .unauthorized : .denied
            }
            let managers: Set<Who> = [.root, .manager]
            let readers: Set<Who> = [.root, .manager, .viewer]

            for who in Who.allCases {
                let auth = headers(who, setup)
                // push: a new blob into team/app
                let blob = testBytes(100, seed: UInt64(who.rawValue.count * 31 + 7))
                let push = try await client.execute(
                    uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: auth, body: ByteBuffer(bytes: blob))
                #expect(outcome(push) == expect(who, managers, .created), "push as \(who)")
                let stored = try await client.execute(uri: "/v2/team/app/blobs/\(sha256(blob))", method: .head, headers: root.basic)
                #expect((stored.status == .ok) == managers.contains(who), "push as \(who) changed nothing")

                // pull
                let pull = try await client.execute(uri: "/v2/team/app/manifests/v1", method: .get, headers: auth)
                #expect(outcome(pull) == expect(who, readers, .ok), "pull as \(who)")
                let blobPull = try await client.execute(uri: "/v2/team/app/blobs/\(sha256(setup.layer))", method: .get, headers: auth)
                #expect(outcome(blobPull) == expect(who, readers, .ok), "blob pull as \(who)")

                // tags list and referrers
                #expect(outcome(try await client.execute(uri: "/v2/team/app/tags/list", method: .get, headers: auth)) == expect(who, readers, .ok), "tags as \(who)")
                #expect(outcome(try await client.execute(uri: "/v2/team/app/referrers/\(sha256(setup.layer))", method: .get, headers: auth)) == expect(who, readers, .ok), "referrers as \(who)")

                // delete a tag
                let delete = try await client.execute(uri: "/v2/team/app/manifests/del-\(who)", method: .delete, headers: auth)
                #expect(outcome(delete) == expect(who, managers, .accepted), "delete as \(who)")
                let still = try await client.execute(uri: "/v2/team/app/manifests/del-\(who)", method: .head, headers: root.basic)
                #expect((still.status == .notFound) == managers.contains(who), "delete as \(who) changed nothing")

                // mount team/app's layer into other/copy: needs push on other and pull on team.
                let mount = try await client.execute(
                    uri: "/v2/other/copy-\(who.rawValue.lowercased())/blobs/uploads/?mount=\(sha256(setup.layer))&from=team/app", method: .post, headers: auth)
                switch who {
                case .root: #expect(mount.status == .created, "mount as root")
                case .outsider: #expect(mount.status == .accepted, "mount as outsider: no pull on the source, so an upload instead")
                default: #expect(outcome(mount) == expect(who, [], .created), "mount as \(who)")
                }
                if who != .root {
                    let linked = try await client.execute(uri: "/v2/other/copy-\(who.rawValue.lowercased())/blobs/\(sha256(setup.layer))", method: .head, headers: root.basic)
                    #expect(linked.status == .notFound, "mount as \(who) linked nothing")
                }

                // catalog
                let catalog = try await client.execute(uri: "/v2/_catalog", method: .get, headers: auth)
                if invalid.contains(who) {
                    #expect(catalog.status == .unauthorized, "catalog as \(who)")
                } else {
                    let names = catalog.json?["repositories"] as? [String] ?? []
                    switch who {
                    // other/copy-root holds only a mounted blob, no manifest: not listed.
                    case .root: #expect(names.contains("team/app") && !names.contains("other/copy-root"))
                    case .outsider: #expect(!names.contains("team/app") && names.allSatisfy { $0.hasPrefix("other/") }, "catalog as outsider: \(names)")
                    default: #expect(names == ["team/app"], "catalog as \(who): \(names)")
                    }
                }

                // description edit
                let short = "set by \(who)"
                let edit = try await client.admin(.put, "repositories/team/app/description", as: setup.keys[who.rawValue], json: "{\"short\":\"\(short)\",\"full\":\"# App\"}")
                #expect(outcome(edit) == expect(who, managers, .ok), "description as \(who)")
                let description = try await client.admin(.get, "repositories/team/app/description", as: root)
                #expect((description.json?["short"] as? String == short) == managers.contains(who), "description as \(who) changed nothing")

                // namespace create and the admin API
                let namespace = "ns-\(who.rawValue.lowercased())"
                let create = try await client.admin(.post, "namespaces", as: setup.keys[who.rawValue], json: "{\"name\":\"\(namespace)\"}")
                #expect(outcome(create) == expect(who, [.root], .created), "namespace create as \(who)")
                let namespaces = try await client.admin(.get, "namespaces", as: root)
                let exists = (try JSONSerialization.jsonObject(with: Data(namespaces.body.readableBytesView)) as? [[String: Any]] ?? []).contains { $0["name"] as? String == namespace }
                #expect(exists == (who == .root), "namespace create as \(who) changed nothing")
                let accounts = try await client.admin(.get, "accounts", as: setup.keys[who.rawValue])
                #expect(outcome(accounts) == expect(who, [.root], .ok), "admin API as \(who)")
            }

            // Namespace delete: a manager of another namespace cannot, its manager can (with force).
            #expect(try await client.admin(.delete, "namespaces/other", as: setup.keys["manager"]).status == .forbidden)
            #expect(try await client.admin(.delete, "namespaces/other", as: setup.keys["viewer"]).status == .forbidden)
            #expect(try await client.admin(.delete, "namespaces/other", as: nil).status == .unauthorized)
            #expect(try await client.admin(.delete, "namespaces/other", as: setup.keys["outsider"]).status == .conflict)
            #expect(try await client.admin(.delete, "namespaces/other?force=true", as: setup.keys["outsider"]).status == .ok)
            #expect(try await client.execute(uri: "/v2/other/copy-root/blobs/\(sha256(setup.layer))", method: .head, headers: root.basic).status == .notFound)
        }
    }

    @Test func pushIntoAMissingNamespaceIsRefusedUnlessAutoCreated() async throws {
        try await withSecuredServer(mode: .router) { client, root in
            let blob = testBytes(10)
            let refused = try await client.execute(
                uri: "/v2/nowhere/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
            #expect(refused.status == .notFound)
            #expect(refused.errorCode == "NAME_UNKNOWN")
        }
        try await withSecuredServer(mode: .router, autoCreate: true) { client, root in
            let blob = testBytes(10)
            let accepted = try await client.execute(
                uri: "/v2/fresh/app/blobs/uploads/?digest=\(sha256(blob))", method: .post, headers: root.basic, body: ByteBuffer(bytes: blob))
            #expect(accepted.status == .created)
            let namespaces = try await client.admin(.get, "namespaces", as: root)
            #expect(String(buffer: namespaces.body).contains("\"fresh\""))
        }
    }
}
