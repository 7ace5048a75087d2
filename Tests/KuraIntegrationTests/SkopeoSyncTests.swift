import Foundation
import KuraCore
import KuraServerTestSupport
import Testing

/// skopeo `sync` out of Kura into a folder and back into another repository, and `copy
/// --all --preserve-digests` of a two-platform index between repositories, with access
/// control on (credentials on every call).
@Suite("skopeo sync", .serialized)
struct SkopeoSyncTests {
    @Test func syncBothWaysAndCopyAnIndexWithItsDigests() async throws {
        try await withClientTestServer { server in
            _ = try ClientProcess.require(SkopeoRunner.executable, package: "skopeo")
            let skopeo = try SkopeoRunner(scratch: server.scratch)
            let host = server.authority
            let creds = "\(server.root.id):\(server.root.secret)"
            var digests: [String: String] = [:]
            for (tag, arch) in [("v1", "amd64"), ("v2", "arm64")] {
                let image = try await TestImage.make(.oci, architecture: arch, files: ["etc/\(tag)": "sync \(tag)\n"], scratch: server.scratch)
                let layout = "\(server.scratch)/layout-\(tag)"
                try OCILayoutBuilder.write(at: layout, blobs: image.allBlobs, tagged: image.manifest, tag: tag)
                try await skopeo.run(["copy", "--dest-tls-verify=false", "--dest-creds", creds, "oci:\(layout):\(tag)", "docker://\(host)/team/source:\(tag)"])
                digests[tag] = image.manifest.digest.description
            }

            // Out: every tag of the repository into a folder.
            let folder = "\(server.scratch)/synced"
            try await skopeo.run([
                "sync", "--src", "docker", "--dest", "dir", "--src-tls-verify=false", "--src-creds", creds, "\(host)/team/source", folder,
            ])
            // Back: every image of the folder (`source:v1`, `source:v2`) under another namespace.
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder)) == ["source:v1", "source:v2"])
            try await server.client.makeNamespace("copies", root: server.root)
            try await skopeo.run([
                "sync", "--src", "dir", "--dest", "docker", "--dest-tls-verify=false", "--dest-creds", creds, folder, "\(host)/copies",
            ])
            #expect(Set(try await server.tags("copies/source")) == ["v1", "v2"])
            for (tag, digest) in digests {
                #expect(try await server.manifest("copies/source", tag).digest == digest, "sync round trip kept \(tag)'s bytes")
            }

            // An index with both images, copied with every child and its digest.
            let images = try await [
                TestImage.make(.oci, architecture: "amd64", files: ["etc/multi": "amd64\n"], scratch: server.scratch),
                TestImage.make(.oci, architecture: "arm64", files: ["etc/multi": "arm64\n"], scratch: server.scratch),
            ]
            let index = makeTestIndex(images)
            let layout = "\(server.scratch)/layout-index"
            try OCILayoutBuilder.write(at: layout, blobs: [index] + images.flatMap(\.allBlobs), tagged: index, tag: "multi")
            try await skopeo.run([
                "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", creds, "oci:\(layout):multi",
                "docker://\(host)/team/multi:v1",
            ])
            try await skopeo.run([
                "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", "--src-creds", creds,
                "--dest-creds", creds, "docker://\(host)/team/multi:v1", "docker://\(host)/team/multi-copy:v1",
            ])
            let copied = try await server.manifest("team/multi-copy", "v1")
            #expect(copied.digest == index.digest.description)
            #expect(copied.mediaType == MediaType.ociIndex)
            for image in images {
                #expect(try await server.manifest("team/multi-copy", image.manifest.digest.description).digest == image.manifest.digest.description)
            }
        }
    }
}
