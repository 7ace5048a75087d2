import Foundation
import KuraCore
import KuraServerTestSupport
import KuraStorage
import KuraTestSupport

// Test images written by hand, byte for byte: gzip'd tar layers made by the real `tar` and
// `gzip`, configs, manifests and indexes as JSON text, laid out in an OCI image layout or in
// skopeo's `dir:` transport layout. The JSON is deliberately not canonical (indented, with a
// trailing newline) so "byte-identical" means the registry kept the pushed bytes.

/// One content-addressed blob of a test image.
struct ImageBlob: Sendable, Hashable {
    let mediaType: String
    let bytes: [UInt8]
    let digest: Digest

    init(mediaType: String, bytes: [UInt8]) {
        self.mediaType = mediaType
        self.bytes = bytes
        self.digest = ContentHasher.digest(.sha256, of: bytes)
    }

    init(mediaType: String, json: String) {
        self.init(mediaType: mediaType, bytes: Array(json.utf8))
    }

    /// The file name the `dir:` transport and the OCI layout use: the hex digest.
    var hex: String { digest.encoded }

    /// A descriptor as JSON text, at one level of indentation below `indent`.
    func descriptor(
        indent: String, platform: (os: String, architecture: String)? = nil, annotations: [(String, String)] = []
    ) -> String {
        let inner = indent + "   "
        var fields = [
            "\(inner)\"mediaType\": \"\(mediaType)\"",
            "\(inner)\"digest\": \"\(digest)\"",
            "\(inner)\"size\": \(bytes.count)",
        ]
        if let platform {
            fields.append(
                "\(inner)\"platform\": {\"architecture\": \"\(platform.architecture)\", \"os\": \"\(platform.os)\"}")
        }
        if !annotations.isEmpty {
            let pairs = annotations.map { "\"\($0.0)\": \"\($0.1)\"" }.joined(separator: ", ")
            fields.append("\(inner)\"annotations\": {\(pairs)}")
        }
        return "\(indent){\n" + fields.joined(separator: ",\n") + "\n\(indent)}"
    }
}

/// The media types of one manifest flavour.
struct ImageFormat: Sendable {
    let manifest: String
    let config: String
    let layer: String

    static let oci = ImageFormat(manifest: MediaType.ociManifest, config: MediaType.ociConfig, layer: MediaType.ociLayerGzip)
    static let docker = ImageFormat(
        manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, layer: MediaType.dockerLayerGzip)
}

/// An image manifest with its config and layers.
struct TestImage: Sendable {
    let manifest: ImageBlob
    let config: ImageBlob
    let layers: [ImageBlob]
    let os: String
    let architecture: String

    /// Config and layers: what the manifest references.
    var referencedBlobs: [ImageBlob] { [config] + layers }
    /// Everything, manifest included.
    var allBlobs: [ImageBlob] { [manifest] + referencedBlobs }

    /// Builds a single-layer image whose layer holds `files` (path → text), under `scratch`.
    static func make(
        _ format: ImageFormat, architecture: String, files: [String: String], scratch: String
    ) async throws -> TestImage {
        let (layer, diffID) = try await makeLayer(files: files, mediaType: format.layer, scratch: scratch)
        let config = ImageBlob(
            mediaType: format.config,
            json: """
                {
                   "architecture": "\(architecture)",
                   "os": "linux",
                   "config": {
                      "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
                      "Cmd": ["/bin/sh"]
                   },
                   "rootfs": {
                      "type": "layers",
                      "diff_ids": ["\(diffID)"]
                   },
                   "history": [{"created_by": "kura skopeo compatibility test (\(architecture))"}]
                }

                """)
        let manifest = ImageBlob(
            mediaType: format.manifest,
            json: """
                {
                   "schemaVersion": 2,
                   "mediaType": "\(format.manifest)",
                   "config": \(config.descriptor(indent: "   ").dropFirst(3)),
                   "layers": [
                \(layer.descriptor(indent: "      "))
                   ]
                }

                """)
        return TestImage(manifest: manifest, config: config, layers: [layer], os: "linux", architecture: architecture)
    }

    /// A gzip'd tar of `files`, made by `/usr/bin/tar` and `/usr/bin/gzip`, and the digest
    /// of the uncompressed tar (the config's diff_id).
    static func makeLayer(files: [String: String], mediaType: String, scratch: String) async throws -> (ImageBlob, Digest) {
        let work = "\(scratch)/layer-\(UUID().uuidString)"
        let root = "\(work)/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        for (path, text) in files {
            let url = URL(fileURLWithPath: root).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try await ExternalProcess.run(
            "/usr/bin/tar",
            ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", "\(work)/layer.tar", "-C", root, "."],
            scratch: work)
        try await ExternalProcess.run(
            "/usr/bin/gzip", ["-n", "-c", "\(work)/layer.tar"], scratch: work, stdoutFile: "\(work)/layer.tar.gz")
        let tar = LiveKuraRegistry.fileBytes("\(work)/layer.tar")
        let gzipped = LiveKuraRegistry.fileBytes("\(work)/layer.tar.gz")
        guard !tar.isEmpty, gzipped.count > 2, gzipped[0] == 0x1f, gzipped[1] == 0x8b else {
            throw LayoutError("tar/gzip produced no layer in \(work)")
        }
        return (ImageBlob(mediaType: mediaType, bytes: gzipped), ContentHasher.digest(.sha256, of: tar))
    }
}

/// An OCI image index over `images`, each descriptor with its platform.
func makeTestIndex(_ images: [TestImage]) -> ImageBlob {
    let descriptors = images.map {
        $0.manifest.descriptor(indent: "      ", platform: (os: $0.os, architecture: $0.architecture))
    }
    return ImageBlob(
        mediaType: MediaType.ociIndex,
        json: """
            {
               "schemaVersion": 2,
               "mediaType": "\(MediaType.ociIndex)",
               "manifests": [
            \(descriptors.joined(separator: ",\n"))
               ]
            }

            """)
}

struct LayoutError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes an OCI image layout: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.
enum OCILayoutBuilder {
    static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// `tagged` is the manifest (or index) that `index.json` names as `tag`.
    static func write(at path: String, blobs: [ImageBlob], tagged: ImageBlob, tag: String) throws {
        let blobFolder = "\(path)/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobFolder, withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(path)/oci-layout"))
        let index = """
            {
               "schemaVersion": 2,
               "manifests": [
            \(tagged.descriptor(indent: "      ", annotations: [(refNameAnnotation, tag)]))
               ]
            }

            """
        try Data(index.utf8).write(to: URL(fileURLWithPath: "\(path)/index.json"))
        for blob in Set(blobs + [tagged]) {
            try Data(blob.bytes).write(to: URL(fileURLWithPath: "\(blobFolder)/\(blob.hex)"))
        }
    }

    /// The path of a blob inside an OCI layout.
    static func blobPath(_ layout: String, _ digest: Digest) -> String {
        "\(layout)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }
}

/// Writes skopeo's `dir:` transport layout: `version`, `manifest.json`, blobs named by hex.
enum DirLayoutBuilder {
    static let version = "Directory Transport Version: 1.1\n"

    static func write(at path: String, image: TestImage) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data(version.utf8).write(to: URL(fileURLWithPath: "\(path)/version"))
        try Data(image.manifest.bytes).write(to: URL(fileURLWithPath: "\(path)/manifest.json"))
        for blob in image.referencedBlobs {
            try Data(blob.bytes).write(to: URL(fileURLWithPath: "\(path)/\(blob.hex)"))
        }
    }
}
