/// What a detector wants of one tar entry. Anything not asked for is skipped unread
/// (its bytes still pass through the decompressor, but are not kept).
public enum FileInterest: Int, Sendable, Comparable {
    case none
    /// Only where it points, if it is a symbolic link (`/etc/os-release` usually is one).
    case linkTarget
    /// The whole content, up to ``LayerLimits/maximumFileSize``.
    case content
    /// The Go build information embedded in an executable, found while the bytes stream by.
    case goBuildInfo

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
