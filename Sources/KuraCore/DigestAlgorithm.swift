/// A content-digest algorithm that Kura can verify.
///
/// The OCI image spec registers `sha256` (required) and `sha512` (optional); any other
/// algorithm is syntactically acceptable in a digest string but cannot be verified, so
/// Kura refuses it with ``DigestError/unsupportedAlgorithm(_:)``.
public enum DigestAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    case sha256
    case sha512

    /// The length of the hex-encoded digest value.
    public var encodedLength: Int {
        switch self {
        case .sha256: 64
        case .sha512: 128
        }
    }

    /// The length of the raw digest in bytes.
    public var byteCount: Int { encodedLength / 2 }
}
