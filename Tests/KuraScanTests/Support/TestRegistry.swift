import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import Logging
import NIOCore

/// A real Registry (filesystem blobs behind a read counter, in-memory SQLite catalog) and
/// pushes through its service API, for the scanning tests.
struct TestRegistry {
    let registry: Registry
    let catalog: SQLiteMetadataStore
    let backend: CountingBackend
    let folder: URL

    init(folder: URL) throws {
        self.folder = folder
        backend = CountingBackend(try FileSystemBackend(root: folder.appendingPathComponent("blobs").path, durability: .none))
        catalog = try SQLiteMetadataStore.inMemory()
        registry = Registry(blobs: BlobStore(backend: backend), catalog: Catalog(catalog), logger: Logger(label: "test"))
    }

    func upload(_ bytes: [UInt8], in repository: RepositoryName) async throws -> (Digest, Int) {
        let digest = ContentHasher.digest(.sha256, of: bytes)
        let body = AsyncStream<ByteBuffer> { continuation in
            continuation.yield(ByteBuffer(bytes: bytes))
            continuation.finish()
        }
        _ = try await registry.uploadBlob(body, digest: digest, length: Int64(bytes.count), into: repository)
        return (digest, bytes.count)
    }

    /// Pushes an image whose layers hold `layers` (gzip tar each).
    func pushImage(
        _ layers: [[String: LayerFile]], in repository: RepositoryName, tag: String?, configType: String = MediaType.ociConfig
    ) async throws -> (digest: Digest, size: Int) {
        var blobs: [[UInt8]] = []
        for files in layers { blobs.append(try await TestImage.pack(files, compression: .gzip, in: folder)) }
        return try await pushImage(layerBlobs: blobs, in: repository, tag: tag, configType: configType)
    }

    /// Pushes an image with these layer blobs as they are (bad ones too).
    func pushImage(
        layerBlobs: [[UInt8]], in repository: RepositoryName, tag: String?, configType: String = MediaType.ociConfig
    ) async throws -> (digest: Digest, size: Int) {
        var descriptors: [String] = []
        for blob in layerBlobs {
            let (digest, size) = try await upload(blob, in: repository)
            descriptors.append("{\"mediaType\":\"\(MediaType.ociLayerGzip)\",\"digest\":\"\(digest)\",\"size\":\(size)}")
        }
        let (config, configSize) = try await upload(Array("{\"architecture\":\"amd64\",\"os\":\"linux\"}".utf8), in: repository)
        let manifest = """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(configType)","digest":"\(config)","size":\(configSize)},"layers":[\(descriptors.joined(separator: ","))]}
            """
        let digest = ContentHasher.digest(.sha256, of: Array(manifest.utf8))
        _ = try await registry.putManifest(
            ByteBuffer(string: manifest), contentType: MediaType.ociManifest,
            reference: try tag.map { try Reference(parsing: $0) } ?? .digest(digest), in: repository)
        return (digest, manifest.utf8.count)
    }
}
