public import KuraCore

/// Content that is not what its digest (or its declared size) says.
public enum DigestVerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes hash to another digest: the source is lying or broken.
    case digestMismatch(expected: Digest, actual: Digest)
    /// Fewer or more bytes than declared.
    case sizeMismatch(digest: Digest?, expected: Int64, actual: Int64)

    /// A short read may be a network fault, worth another try; a wrong hash is not.
    public var isTransient: Bool {
        if case .sizeMismatch = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .digestMismatch(let expected, let actual): "digest mismatch: expected \(expected), content hashes to \(actual)"
        case .sizeMismatch(let digest, let expected, let actual): "\(digest.map { "\($0): " } ?? "")expected \(expected) bytes, got \(actual)"
        }
    }
}
