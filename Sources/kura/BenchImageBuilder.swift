import ArgumentParser
import Foundation
import KuraCore
import KuraStorage

/// Builds the benchmark image as an OCI image layout (what `trivy image --input` reads):
/// layer 0 holds this machine's os-release and dpkg database, the others Python and npm
/// package records and random filler, each packed by GNU tar and gzip.
struct BenchImageBuilder {
    let folder: URL
    let layers: Int
    let sizeMiB: Int
    let packages: Int

    struct Image {
        let layout: URL
        let manifest: Digest
        let layers: [Digest]
        let compressedBytes: Int64

        func blobPath(_ digest: Digest) -> String {
            layout.appendingPathComponent("blobs/\(digest.algorithm.rawValue)/\(digest.encoded)").path
        }
    }

    func build() throws -> Image {
        let blobs = folder.appendingPathComponent("blobs/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let status = try String(contentsOfFile: "/var/lib/dpkg/status", encoding: .utf8)
        let dpkgPackages = status.components(separatedBy: "\n\n").filter { $0.contains("Status: install ok installed") }.count
        let languagePackages = max(0, packages - dpkgPackages)
        let fillerPerLayer = Int64(sizeMiB) << 20 / Int64(layers - 1)

        var layerDigests: [Digest] = []
        var diffIDs: [Digest] = []
        var layerSizes: [Int64] = []
        for index in 0..<layers {
            let tree = folder.appendingPathComponent("tree-\(index)")
            try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
            if index == 0 {
                try write(try String(contentsOfFile: "/etc/os-release", encoding: .utf8), to: tree, "etc/os-release")
                try write(status, to: tree, "var/lib/dpkg/status")
            } else {
                // This layer's share of the language packages: Python and npm alternately.
                let share = languagePackages / (layers - 1) + (index <= languagePackages % (layers - 1) ? 1 : 0)
                for n in 0..<share {
                    let name = "bench-\(index)-\(n)"
                    if n % 2 == 0 {
                        try write("Metadata-Version: 2.1\nName: \(name)\nVersion: 1.\(n % 10).0\n\n", to: tree,
                                  "usr/local/lib/python3.11/site-packages/\(name)-1.0.dist-info/METADATA")
                    } else {
                        try write("{\"name\": \"\(name)\", \"version\": \"1.\(n % 10).0\"}", to: tree, "app/node_modules/\(name)/package.json")
                    }
                }
                let filler = tree.appendingPathComponent("opt/filler-\(index).bin")
                try FileManager.default.createDirectory(at: filler.deletingLastPathComponent(), withIntermediateDirectories: true)
                _ = try BenchProcess.run("/bin/sh", ["-c", "head -c \(fillerPerLayer) /dev/urandom > '\(filler.path)'"])
            }
            let tar = folder.appendingPathComponent("layer-\(index).tar")
            _ = try BenchProcess.run("/usr/bin/tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", tree.path, "-cf", tar.path, "."])
            try FileManager.default.removeItem(at: tree)
            diffIDs.append(try Self.digest(ofFile: tar.path))
            _ = try BenchProcess.run("/usr/bin/gzip", ["-1", tar.path])
            let gzipped = tar.path + ".gz"
            let digest = try Self.digest(ofFile: gzipped)
            layerSizes.append(Int64(try FileManager.default.attributesOfItem(atPath: gzipped)[.size] as? Int ?? 0))
            try FileManager.default.moveItem(atPath: gzipped, toPath: blobs.appendingPathComponent(digest.encoded).path)
            layerDigests.append(digest)
        }

        let config = """
            {"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[\(diffIDs.map { "\"\($0)\"" }.joined(separator: ","))]},"config":{}}
            """
        let configDigest = try store(Data(config.utf8), in: blobs)
        let layerJSON = zip(layerDigests, layerSizes).map { digest, size in
            "{\"mediaType\":\"\(MediaType.ociLayerGzip)\",\"digest\":\"\(digest)\",\"size\":\(size)}"
        }
        let manifest = """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(configDigest)","size":\(config.utf8.count)},"layers":[\(layerJSON.joined(separator: ","))]}
            """
        let manifestDigest = try store(Data(manifest.utf8), in: blobs)
        try Data("{\"imageLayoutVersion\":\"1.0.0\"}".utf8).write(to: folder.appendingPathComponent("oci-layout"))
        try Data("""
            {"schemaVersion":2,"manifests":[{"mediaType":"\(MediaType.ociManifest)","digest":"\(manifestDigest)","size":\(manifest.utf8.count),"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}
            """.utf8).write(to: folder.appendingPathComponent("index.json"))
        return Image(layout: folder, manifest: manifestDigest, layers: layerDigests, compressedBytes: layerSizes.reduce(0, +))
    }

    private func write(_ text: String, to tree: URL, _ path: String) throws {
        let file = tree.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }

    private func store(_ data: Data, in blobs: URL) throws -> Digest {
        let digest = ContentHasher.digest(.sha256, of: data)
        try data.write(to: blobs.appendingPathComponent(digest.encoded))
        return digest
    }

    /// SHA-256 of a file, read in 1 MiB pieces.
    static func digest(ofFile path: String) throws -> Digest {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot open \(path)") }
        defer { try? handle.close() }
        var hasher = ContentHasher(.sha256)
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(Array(data)) }
        return hasher.finalize()
    }
}
