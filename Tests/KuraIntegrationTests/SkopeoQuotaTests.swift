import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import Testing
import KuraTestSupport

/// The real skopeo against a namespace quota: refused while the image does not fit, leaving
/// nothing behind; accepted once the quota equals the image's bytes exactly.
@Suite("skopeo with a quota", .serialized)
struct SkopeoQuotaTests {
    @Test func pushIsRefusedOverQuotaAndFitsExactly() async throws {
        try await withTemporaryDirectory { scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let image = try await TestImage.make(.oci, architecture: "amd64", files: ["quota.txt": "within limits\n"], scratch: scratch)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
            let imageBytes = image.allBlobs.reduce(0) { $0 + $1.bytes.count }

            try await withSecuredServer { client, root in
                try await client.makeNamespace("team", root: root)
                let authority = "127.0.0.1:\(try #require(client.port))"
                let credentials = ["--dest-creds", "\(root.id):\(root.secret)"]
                // Smaller than any blob: every upload is refused.
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":1}").status == .ok)
                await #expect(throws: ExternalProcessFailure.self) {
                    try await skopeo.copy("oci:\(source):v1", "docker://\(authority)/team/app:v1", options: credentials)
                }
                let quota = try await client.admin(.get, "namespaces/team/quota", as: root)
                #expect(quota.json?["physicalBytes"] as? Int == 0, "nothing behind")
                #expect(try await client.v2(.get, "team/app/tags/list", as: root).status == .notFound, "no repository")

                // One byte short of the image: the last object that does not fit is refused.
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":\(imageBytes - 1)}").status == .ok)
                await #expect(throws: ExternalProcessFailure.self) {
                    try await skopeo.copy("oci:\(source):v1", "docker://\(authority)/team/app:v1", options: credentials)
                }
                #expect(try await client.v2(.get, "team/app/manifests/v1", as: root).status == .notFound)

                // Exactly the image's bytes: it fits, counted once per object.
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":\(imageBytes)}").status == .ok)
                try await skopeo.copy("oci:\(source):v1", "docker://\(authority)/team/app:v1", options: credentials)
                let pushed = try await client.v2(.get, "team/app/manifests/v1", as: root, headers: [.accept: MediaType.ociManifest])
                #expect(pushed.bytes == image.manifest.bytes)
                #expect(try await client.admin(.get, "namespaces/team/quota", as: root).json?["physicalBytes"] as? Int == imageBytes)
            }
        }
    }
}
