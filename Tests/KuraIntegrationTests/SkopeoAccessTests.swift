import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import Testing
import KuraTestSupport

/// The real skopeo against a registry with access control: login, push and pull with a
/// manager key, pull with a viewer key, push refused for the viewer.
@Suite("skopeo with access control", .serialized)
struct SkopeoAccessTests {
    @Test func loginPushAndPullWithRoles() async throws {
        try await withTemporaryDirectory { scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let image = try await TestImage.make(.oci, architecture: "amd64", files: ["hello.txt": "hello, access\n"], scratch: scratch)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")

            try await withSecuredServer { client, root in
                #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
                let manager = try await client.makeAccount("manager", root: root, grants: [("team", "manager")])
                let viewer = try await client.makeAccount("viewer", root: root, grants: [("team", "viewer")])
                let authority = "127.0.0.1:\(try #require(client.port))"

                // A wrong secret does not log in.
                await #expect(throws: ExternalProcessFailure.self) {
                    try await skopeo.run(["login", "--tls-verify=false", "-u", manager.id, "-p", "wrong", authority])
                }
                // The manager logs in, and pushes with the stored credentials.
                try await skopeo.run(["login", "--tls-verify=false", "-u", manager.id, "-p", manager.secret, authority])
                try await skopeo.copy("oci:\(source):v1", "docker://\(authority)/team/app:v1")
                let pushed = try await client.execute(uri: "/v2/team/app/manifests/v1", method: .get, headers: root.basic)
                #expect(pushed.bytes == image.manifest.bytes)
                try await skopeo.run(["logout", authority])

                // The viewer pulls with --creds...
                let out = "\(scratch)/viewer-out"
                try await skopeo.copy("docker://\(authority)/team/app:v1", "dir:\(out)", options: ["--src-creds", "\(viewer.id):\(viewer.secret)"])
                #expect(LiveKuraRegistry.fileBytes("\(out)/manifest.json") == image.manifest.bytes)
                // ...and cannot push, and nothing lands.
                await #expect(throws: ExternalProcessFailure.self) {
                    try await skopeo.copy("oci:\(source):v1", "docker://\(authority)/team/viewer-copy:v1", options: ["--dest-creds", "\(viewer.id):\(viewer.secret)"])
                }
                let absent = try await client.execute(uri: "/v2/team/viewer-copy/manifests/v1", method: .get, headers: root.basic)
                #expect(absent.status == .notFound)
                // Nobody without credentials pulls from a private namespace.
                await #expect(throws: ExternalProcessFailure.self) {
                    try await skopeo.copy("docker://\(authority)/team/app:v1", "dir:\(scratch)/anonymous-out")
                }
            }
        }
    }
}
