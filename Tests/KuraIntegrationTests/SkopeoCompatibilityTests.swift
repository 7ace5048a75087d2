import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import Testing

/// The real `skopeo` client (1.9.3) pushing to and pulling from a live Kura on loopback.
/// Each test builds its image by hand, copies it into Kura and back out, and checks that
/// every manifest and blob survives byte for byte.
@Suite("skopeo compatibility", .serialized)
struct SkopeoCompatibilityTests {
    @Test("An OCI image layout round-trips through Kura byte-identically")
    func ociImage() async throws {
        try await withTemporaryDirectory { scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let image = try await TestImage.make(
                .oci, architecture: "amd64",
                files: ["etc/os-release": "ID=kura-test\n", "hello.txt": "hello from an OCI layer\n"],
                scratch: scratch)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")

            try await LiveKuraRegistry.run(scratch: scratch) { kura in
                let remote = kura.dockerReference("test/oci-image", tag: "v1")
                try await skopeo.copy("oci:\(source):v1", remote)

                // The registry serves the pushed bytes, typed and addressed correctly.
                let response = try await kura.getManifest("test/oci-image", "v1")
                #expect(response.status == .ok)
                let served = response.bytes
                #expect(served == image.manifest.bytes)
                #expect(response.headers[.contentType] == MediaType.ociManifest)
                #expect(response.headers[.testDockerContentDigest] == sha256(served).description)
                #expect(response.headers[.testDockerContentDigest] == image.manifest.digest.description)

                // And skopeo pulls back exactly what went in.
                let out = "\(scratch)/dir-out"
                try await skopeo.copy(remote, "dir:\(out)")
                #expect(LiveKuraRegistry.fileBytes("\(out)/manifest.json") == image.manifest.bytes)
                for blob in image.referencedBlobs {
                    #expect(LiveKuraRegistry.fileBytes("\(out)/\(blob.hex)") == blob.bytes, "blob \(blob.digest)")
                }
            }
        }
    }

    @Test("A Docker schema 2 image round-trips through Kura byte-identically")
    func dockerSchema2Image() async throws {
        try await withTemporaryDirectory { scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let image = try await TestImage.make(
                .docker, architecture: "amd64",
                files: ["usr/share/kura/README": "a Docker schema 2 layer\n", "bin/marker": "docker\n"],
                scratch: scratch)
            #expect(image.manifest.mediaType == MediaType.dockerManifest)
            let source = "\(scratch)/dir-source"
            try DirLayoutBuilder.write(at: source, image: image)

            try await LiveKuraRegistry.run(scratch: scratch) { kura in
                let remote = kura.dockerReference("test/docker-image", tag: "v1")
                try await skopeo.copy("dir:\(source)", remote)

                let response = try await kura.getManifest("test/docker-image", "v1")
                #expect(response.status == .ok)
                let served = response.bytes
                #expect(served == image.manifest.bytes)
                #expect(response.headers[.contentType] == MediaType.dockerManifest)
                #expect(response.headers[.testDockerContentDigest] == sha256(served).description)

                // The same manifest by digest.
                let byDigest = try await kura.getManifest("test/docker-image", image.manifest.digest.description)
                #expect(byDigest.status == .ok)
                #expect(byDigest.bytes == image.manifest.bytes)

                let out = "\(scratch)/dir-out"
                try await skopeo.copy(remote, "dir:\(out)")
                #expect(LiveKuraRegistry.fileBytes("\(out)/manifest.json") == image.manifest.bytes)
                for blob in image.referencedBlobs {
                    #expect(LiveKuraRegistry.fileBytes("\(out)/\(blob.hex)") == blob.bytes, "blob \(blob.digest)")
                }
            }
        }
    }

    @Test("A two-platform OCI index round-trips through Kura with --all byte-identically")
    func twoPlatformIndex() async throws {
        try await withTemporaryDirectory { scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let amd64 = try await TestImage.make(
                .oci, architecture: "amd64", files: ["platform.txt": "linux/amd64\n", "amd64/only": "x86-64\n"],
                scratch: scratch)
            let arm64 = try await TestImage.make(
                .oci, architecture: "arm64", files: ["platform.txt": "linux/arm64\n", "arm64/only": "aarch64\n"],
                scratch: scratch)
            let images = [amd64, arm64]
            // Different configs and layers per platform, or the test proves less than it says.
            #expect(Set(images.flatMap(\.allBlobs).map(\.digest)).count == 6)
            let index = makeTestIndex(images)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: images.flatMap(\.allBlobs), tagged: index, tag: "v1")

            try await LiveKuraRegistry.run(scratch: scratch) { kura in
                let remote = kura.dockerReference("test/multi", tag: "v1")
                try await skopeo.copy("oci:\(source):v1", remote, options: ["--all"])

                // The index by tag: the pushed bytes, with the index media type.
                let response = try await kura.getManifest("test/multi", "v1")
                #expect(response.status == .ok)
                let served = response.bytes
                #expect(served == index.bytes)
                #expect(response.headers[.contentType] == MediaType.ociIndex)
                #expect(response.headers[.testDockerContentDigest] == sha256(served).description)
                #expect(response.headers[.testDockerContentDigest] == index.digest.description)

                // Each child manifest by digest.
                for image in images {
                    let child = try await kura.getManifest("test/multi", image.manifest.digest.description)
                    #expect(child.status == .ok, "\(image.architecture)")
                    #expect(child.bytes == image.manifest.bytes, "\(image.architecture)")
                    #expect(child.headers[.contentType] == MediaType.ociManifest)
                    #expect(
                        child.headers[.testDockerContentDigest] == image.manifest.digest.description)
                }

                // Everything comes back out, byte for byte.
                let out = "\(scratch)/oci-out"
                try await skopeo.copy(remote, "oci:\(out):v1", options: ["--all"])
                for blob in [index] + images.flatMap(\.allBlobs) {
                    #expect(
                        LiveKuraRegistry.fileBytes(OCILayoutBuilder.blobPath(out, blob.digest)) == blob.bytes,
                        "blob \(blob.mediaType) \(blob.digest)")
                }
                let outIndex = String(decoding: LiveKuraRegistry.fileBytes("\(out)/index.json"), as: UTF8.self)
                #expect(outIndex.contains(index.digest.description), "out/index.json: \(outIndex)")
            }
        }
    }
}
