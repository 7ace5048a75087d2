import Foundation
import KuraCore
import KuraMetadata

/// The body of a referrers response: an OCI image index of descriptors of the manifests
/// whose subject is the requested digest.
public struct ReferrersIndex: Sendable {
    /// The JSON body.
    public var body: [UInt8]
    /// Whether an `artifactType` filter was applied (`OCI-Filters-Applied: artifactType`).
    public var filteredByArtifactType: Bool

    init(referrers: [ManifestRecord], filteredByArtifactType: Bool) throws {
        struct Descriptor: Encodable {
            var mediaType: String
            var digest: String
            var size: Int64
            var artifactType: String?
            var annotations: [String: String]?
        }
        struct Index: Encodable {
            var schemaVersion = 2
            var mediaType = MediaType.ociIndex
            var manifests: [Descriptor]
        }
        let index = Index(
            manifests: referrers.map {
                Descriptor(
                    mediaType: $0.mediaType, digest: $0.digest.description, size: $0.size, artifactType: $0.artifactType,
                    annotations: $0.annotations.isEmpty ? nil : $0.annotations)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.body = Array(try encoder.encode(index))
        self.filteredByArtifactType = filteredByArtifactType
    }
}
