/// A file a detector asked for, as the final image shows it: from the highest layer that
/// holds it, unless a whiteout above removed it.
public struct ImageFile: Sendable {
    public enum Content: Sendable {
        case bytes([UInt8])
        case symbolicLink(target: String)
        /// Go build information, if the executable carries any.
        case goBuildInfo(GoBuildInfo?)
        /// Larger than ``LayerLimits/maximumFileSize``: not read.
        case tooLarge(size: Int64)
    }

    public let path: String
    /// Index of the layer in the manifest, from 0 at the bottom.
    public let layerIndex: Int
    public let content: Content

    public var bytes: [UInt8]? {
        if case .bytes(let bytes) = content { return bytes }
        return nil
    }

    public var text: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
}
