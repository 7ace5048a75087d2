import Foundation
public import KuraCore
public import KuraMetadata
import KuraStorage
import NIOCore

/// What a person browsing a registry sees of a manifest: its descriptors with sizes, the
/// platforms of an index's children, and for an image its config (OS, architecture,
/// entrypoint, environment, labels, history). Read without counting a pull.
public struct ManifestOverview: Sendable {
    public struct Platform: Sendable, Hashable {
        public var os: String
        public var architecture: String
        public var variant: String?

        public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
    }

    public struct Entry: Sendable, Hashable {
        public var mediaType: String
        public var digest: Digest
        public var size: Int64
        /// An index child's platform.
        public var platform: Platform?
        public var annotations: [String: String]
    }

    /// An image config's fields that tell what the image runs.
    public struct ImageConfig: Sendable {
        public var platform: Platform?
        public var entrypoint: [String] = []
        public var cmd: [String] = []
        public var env: [String] = []
        public var workingDir: String?
        public var user: String?
        public var labels: [String: String] = [:]
        /// `created_by` of each history step.
        public var history: [String] = []
        public var created: String?
    }

    public var record: ManifestRecord
    public var config: Entry?
    public var layers: [Entry]
    public var children: [Entry]
    public var imageConfig: ImageConfig?

    public var isIndex: Bool { MediaType.indexTypes.contains(record.mediaType) }
    /// The compressed size of an image: its config and layers as stored.
    public var compressedSize: Int64 { (config?.size ?? 0) + layers.reduce(0) { $0 + $1.size } }
    /// An image's platform, or the platforms of an index's children.
    public var platforms: [Platform] { isIndex ? children.compactMap(\.platform) : imageConfig?.platform.map { [$0] } ?? [] }
}

extension Registry {
    /// The overview of a manifest, by tag or digest. Unlike ``manifest(_:in:)`` it emits no
    /// pull event: browsing is not pulling. `withConfig` reads an image's config blob too.
    public func manifestOverview(_ reference: Reference, in repository: RepositoryName, withConfig: Bool = true) async throws
        -> ManifestOverview
    {
        let record = try await manifestRecord(reference, in: repository)
        let bytes: ByteBuffer
        if let cached = manifestCache.get(record.digest) {
            bytes = cached
        } else {
            bytes = try await blobs.backend.getAll(ObjectKey(blob: record.digest), limit: max(limits.maxManifestBytes, Int(record.size)))
            manifestCache.put(record.digest, bytes)
        }
        let document = (try? JSONDecoder().decode(OverviewDocument.self, from: Data(bytes.readableBytesView))) ?? OverviewDocument()
        var overview = ManifestOverview(
            record: record, config: document.config.flatMap(\.entry), layers: (document.layers ?? []).compactMap(\.entry),
            children: (document.manifests ?? []).compactMap(\.entry), imageConfig: nil)
        if withConfig, let config = overview.config, config.size <= 4 << 20 {
            // Configs are small and immutable like manifests: the same cache keeps them, so a
            // page of tags sharing a few images reads each config once.
            var configBytes = manifestCache.get(config.digest)
            if configBytes == nil, let read = try? await blobs.backend.getAll(ObjectKey(blob: config.digest), limit: 4 << 20) {
                manifestCache.put(config.digest, read)
                configBytes = read
            }
            if let configBytes {
                overview.imageConfig = (try? JSONDecoder().decode(ConfigDocument.self, from: Data(configBytes.readableBytesView)))?.imageConfig
            }
        }
        return overview
    }
}

/// The fields of a manifest or index the overview shows; everything else is ignored.
private struct OverviewDocument: Decodable {
    struct Descriptor: Decodable {
        struct Platform: Decodable {
            var os: String?
            var architecture: String?
            var variant: String?
        }
        var mediaType: String?
        var digest: String?
        var size: Int64?
        var platform: Platform?
        var annotations: [String: String]?

        var entry: ManifestOverview.Entry? {
            guard let digest, let parsed = try? Digest(parsing: digest) else { return nil }
            return ManifestOverview.Entry(
                mediaType: mediaType ?? "", digest: parsed, size: size ?? 0,
                platform: platform.map { .init(os: $0.os ?? "", architecture: $0.architecture ?? "", variant: $0.variant) },
                annotations: annotations ?? [:])
        }
    }
    var config: Descriptor?
    var layers: [Descriptor]?
    var manifests: [Descriptor]?
}

/// The fields of an OCI/Docker image config the overview shows.
private struct ConfigDocument: Decodable {
    struct Config: Decodable {
        var Entrypoint: [String]?
        var Cmd: [String]?
        var Env: [String]?
        var WorkingDir: String?
        var User: String?
        var Labels: [String: String]?
    }
    struct Step: Decodable {
        var created_by: String?
        var comment: String?
    }
    var os: String?
    var architecture: String?
    var variant: String?
    var created: String?
    var config: Config?
    var history: [Step]?

    var imageConfig: ManifestOverview.ImageConfig {
        var result = ManifestOverview.ImageConfig()
        if let os, let architecture { result.platform = .init(os: os, architecture: architecture, variant: variant) }
        result.entrypoint = config?.Entrypoint ?? []
        result.cmd = config?.Cmd ?? []
        result.env = config?.Env ?? []
        result.workingDir = config?.WorkingDir
        result.user = config?.User
        result.labels = config?.Labels ?? [:]
        result.history = (history ?? []).map { $0.created_by ?? $0.comment ?? "" }
        result.created = created
        return result
    }
}
