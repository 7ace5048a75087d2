import Foundation
import NIOCore
import KuraCore
import KuraStorage

/// A platform as written on a command line: `os/architecture[/variant]`, e.g. `linux/arm64/v8`.
public struct PlatformSpecifier: Sendable, Hashable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(parsing text: String) throws(MirrorError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidArgument("platform must be os/architecture[/variant], not \(text.debugDescription)")
        }
        os = parts[0]
        architecture = parts[1]
        variant = parts.count == 3 ? parts[2] : nil
    }

    /// Whether an index entry's platform is this one (a specifier without variant takes every variant).
    func matches(_ platform: ContentDescriptor.Platform?) -> Bool {
        guard let platform, platform.os == os, platform.architecture == architecture else { return false }
        return variant == nil || platform.variant == variant
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}

/// Narrowing an index to some platforms.
///
/// The original index names every platform, so it cannot be pushed without all its children.
/// With a platform subset the mirror pushes a new index holding only the chosen entries, in
/// their original order and with the original's other fields (annotations, media type): the
/// tag then points at an index that differs from the source's (another digest). Without a
/// subset, indexes are copied byte for byte.
enum PlatformSelection {
    /// The index narrowed to entries that match one of `platforms`; entries without a platform
    /// (attestations and other artifacts attached to the index) are dropped too.
    static func narrow(_ index: FetchedManifest, to platforms: [PlatformSpecifier]) throws -> (FetchedManifest, [ContentDescriptor]) {
        let document = try index.document()
        let kept = (document.manifests ?? []).filter { entry in platforms.contains { $0.matches(entry.platform) } }
        guard var object = try JSONSerialization.jsonObject(with: Data(index.bytes.readableBytesView)) as? [String: Any],
            let entries = object["manifests"] as? [Any]
        else { throw MirrorError.invalidManifest("index \(index.digest) has no manifests list") }
        let keptDigests = Set(kept.map(\.digest.description))
        object["manifests"] = entries.filter { entry in
            ((entry as? [String: Any])?["digest"] as? String).map(keptDigests.contains) ?? false
        }
        let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        let buffer = ByteBuffer(bytes: bytes)
        let narrowed = FetchedManifest(bytes: buffer, mediaType: index.mediaType, digest: ContentHasher.digest(.sha256, of: buffer))
        return (narrowed, kept)
    }
}
