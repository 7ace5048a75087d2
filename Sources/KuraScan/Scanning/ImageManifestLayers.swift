import Foundation
import KuraCore

/// The parts of an image manifest or index a scan needs: the layer digests (bottom first)
/// of an image, or the image manifests an index lists.
struct ImageManifestLayers {
    struct Descriptor: Decodable {
        let mediaType: String?
        let digest: Digest
        let platform: Platform?
    }

    struct Platform: Decodable, Sendable, Hashable {
        let architecture: String?
        let os: String?
        let variant: String?
    }

    private struct Document: Decodable {
        let mediaType: String?
        let config: Descriptor?
        let layers: [Descriptor]?
        let manifests: [Descriptor]?
    }

    enum Parsed {
        case image(layers: [Digest])
        case index(children: [Digest])
    }

    static let imageConfigTypes: Set<String> = [
        "application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json",
    ]

    /// Parses a manifest; an artifact that is not a container image is an error with a reason.
    static func parse(_ bytes: Data) throws -> Parsed {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: bytes)
        } catch {
            throw ScanError.notAnImage("the manifest cannot be read (\(error))")
        }
        if let manifests = document.manifests {
            return .index(children: manifests.filter { descriptor in
                // Attestation manifests in BuildKit indexes carry platform unknown/unknown.
                descriptor.platform?.os != "unknown"
            }.map(\.digest))
        }
        guard let config = document.config, let layers = document.layers else {
            throw ScanError.notAnImage("the manifest has no config and layers")
        }
        guard imageConfigTypes.contains(config.mediaType ?? "") else {
            throw ScanError.notAnImage("its config is \(config.mediaType ?? "untyped"), not an image configuration")
        }
        // Foreign (non-distributable) layers are not stored in the registry.
        let stored = layers.filter { !($0.mediaType ?? "").contains("foreign") }
        return .image(layers: stored.map(\.digest))
    }
}

/// Why an image could not be scanned.
public enum ScanError: Error, Equatable, CustomStringConvertible {
    case notAnImage(String)

    public var description: String {
        switch self {
        case .notAnImage(let reason): "not a container image: \(reason)"
        }
    }
}
