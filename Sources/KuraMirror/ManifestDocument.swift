public import KuraCore
public import NIOCore
import Foundation

/// An OCI content descriptor: what a manifest says about a blob or a child manifest.
public struct ContentDescriptor: Sendable, Codable, Hashable {
    public struct Platform: Sendable, Codable, Hashable {
        public var architecture: String
        public var os: String
        public var variant: String?
    }

    public var mediaType: String?
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var platform: Platform?
    public var artifactType: String?

    public init(mediaType: String?, digest: Digest, size: Int64) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
    }
}

/// A manifest as fetched: its exact bytes (pushed again unchanged), media type and digest.
public struct FetchedManifest: Sendable {
    public var bytes: ByteBuffer
    public var mediaType: String
    public var digest: Digest

    /// The parts of the manifest that name other content.
    public func document() throws -> ManifestDocument {
        do {
            return try JSONDecoder().decode(ManifestDocument.self, from: Data(bytes.readableBytesView))
        } catch {
            throw MirrorError.invalidManifest("\(digest): \(error)")
        }
    }
}

/// The fields of an image manifest or an index that name other content.
public struct ManifestDocument: Sendable, Decodable {
    public var mediaType: String?
    public var config: ContentDescriptor?
    public var layers: [ContentDescriptor]?
    public var manifests: [ContentDescriptor]?
    public var subject: ContentDescriptor?

    /// Blobs an image needs in the registry: the config and the layers, except
    /// non-distributable ones that live elsewhere (they carry `urls`).
    public var blobs: [ContentDescriptor] {
        let layers = (layers ?? []).filter { layer in
            !(layer.urls?.isEmpty == false && MediaType.nondistributableLayerTypes.contains(layer.mediaType ?? ""))
        }
        return (config.map { [$0] } ?? []) + layers
    }

    /// Whether this is an index (a list of child manifests).
    public var isIndex: Bool { manifests != nil && config == nil }
}
