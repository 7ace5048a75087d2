public import KuraCore
public import KuraRegistry
import KuraStorage
import NIOCore

/// Pushes a one-config image into `repository` through the registry service (no HTTP),
/// distinct per `seed`, tagged `tag` or by digest only; returns the manifest's digest.
@discardableResult
public func pushTestImage(_ registry: Registry, _ repository: String, tag: String?, seed: String) async throws -> Digest {
    let name = try RepositoryName(parsing: repository)
    let config = Array("{\"seed\":\"\(seed)\"}".utf8)
    let configDigest = ContentHasher.digest(.sha256, of: config)
    _ = try await registry.uploadBlob(
        SingleBufferSequence(buffer: ByteBuffer(bytes: config)), digest: configDigest, length: Int64(config.count), into: name)
    let manifest = ByteBuffer(string: """
        {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(configDigest)","size":\(config.count)},"layers":[]}
        """)
    let digest = ContentHasher.digest(.sha256, of: manifest.readableBytesView)
    _ = try await registry.putManifest(
        manifest, contentType: MediaType.ociManifest, reference: try tag.map { .tag(try Tag(parsing: $0)) } ?? .digest(digest), in: name)
    return digest
}
