/// Why a registry call or a mirror step failed.
public enum MirrorError: Error, Sendable, CustomStringConvertible {
    /// Bad input from the caller (a URL, a filter, an option).
    case invalidArgument(String)
    /// The registry answered with an unexpected status.
    case unexpectedStatus(method: String, url: String, status: Int, message: String)
    /// The registry refused the credentials or the action.
    case unauthorized(String)
    /// The content did not hash to the digest it was asked for: the source is lying or broken.
    case digestMismatch(expected: String, actual: String)
    /// The source sent fewer or more bytes than the descriptor's size.
    case sizeMismatch(digest: String, expected: Int64, actual: Int64)
    /// A manifest could not be read.
    case invalidManifest(String)

    /// Whether trying again may help (a server fault or overload, not a lie or a refusal).
    public var isTransient: Bool {
        switch self {
        case .unexpectedStatus(_, _, let status, _): status >= 500 || status == 429 || status == 408
        case .sizeMismatch: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .invalidArgument(let message): message
        case .unexpectedStatus(let method, let url, let status, let message):
            "\(method) \(url): \(status)\(message.isEmpty ? "" : " \(message)")"
        case .unauthorized(let message): "unauthorized: \(message)"
        case .digestMismatch(let expected, let actual): "digest mismatch: expected \(expected), content hashes to \(actual)"
        case .sizeMismatch(let digest, let expected, let actual): "\(digest): expected \(expected) bytes, got \(actual)"
        case .invalidManifest(let message): "invalid manifest: \(message)"
        }
    }
}
