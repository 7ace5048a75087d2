import Foundation
public import KuraCore
public import KuraMetadata

/// A descriptor inside a manifest: what it points at and how big that is.
public struct ManifestDescriptor: Sendable, Hashable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]

    /// Whether the blob may live outside the registry (non-distributable, or with URLs).
    public var mayBeExternal: Bool {
        MediaType.nondistributableLayerTypes.contains(mediaType) || !urls.isEmpty
    }
}

/// A manifest after parsing and validation, with everything the registry needs to store it.
public struct ParsedManifest: Sendable {
    public var mediaType: String
    /// Config and layers (image manifests).
    public var blobs: [ManifestDescriptor]
    /// Children (indexes).
    public var children: [ManifestDescriptor]
    public var subject: Digest?
    public var artifactType: String?
    public var annotations: [String: String]

    public var isIndex: Bool { MediaType.indexTypes.contains(mediaType) }

    public var references: [ManifestReference] {
        blobs.map { ManifestReference(digest: $0.digest, kind: .blob) }
            + children.map { ManifestReference(digest: $0.digest, kind: .manifest) }
    }
}
