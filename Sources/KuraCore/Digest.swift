/// Why a string is not an acceptable digest.
public enum DigestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The string does not follow the OCI grammar `algorithm ":" encoded`.
    case malformed(String)
    /// The algorithm is well formed but not one Kura can verify.
    case unsupportedAlgorithm(String)
    /// The encoded part has the wrong length or characters for its algorithm.
    case invalidEncoding(String)

    public var description: String {
        switch self {
        case .malformed(let s): "malformed digest \(s.debugDescription)"
        case .unsupportedAlgorithm(let a): "unsupported digest algorithm \(a.debugDescription)"
        case .invalidEncoding(let s): "invalid digest encoding in \(s.debugDescription)"
        }
    }
}

/// A content digest such as `sha256:2c26b46b…`.
///
/// A `Digest` is always canonical: a supported algorithm and a lowercase hex value of the
/// exact length. Because it is validated on construction it is safe to use as a path
/// component (it can never contain `/` or `..`).
public struct Digest: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let algorithm: DigestAlgorithm
    /// Lowercase hex encoding of the hash.
    public let encoded: String

    /// Parses and validates a digest string.
    ///
    /// Follows the grammar of the OCI image spec:
    /// `algorithm-component (algorithm-separator algorithm-component)* ":" [a-zA-Z0-9=_-]+`,
    /// then requires a registered algorithm with its exact lowercase-hex encoding.
    public init(parsing string: some StringProtocol) throws(DigestError) {
        let text = String(string)
        let utf8 = Array(text.utf8)
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), colon > 0, colon < utf8.count - 1 else {
            throw .malformed(text)
        }
        let algorithmBytes = utf8[..<colon]
        let encodedBytes = utf8[(colon + 1)...]
        guard Self.isValidAlgorithmSyntax(algorithmBytes) else { throw .malformed(text) }
        guard encodedBytes.allSatisfy(Self.isEncodedCharacter) else { throw .malformed(text) }
        let algorithmName = String(decoding: algorithmBytes, as: UTF8.self)
        guard let algorithm = DigestAlgorithm(rawValue: algorithmName) else {
            throw .unsupportedAlgorithm(algorithmName)
        }
        guard encodedBytes.count == algorithm.encodedLength,
            encodedBytes.allSatisfy({ Self.isLowerHex($0) })
        else { throw .invalidEncoding(text) }
        self.algorithm = algorithm
        self.encoded = String(decoding: encodedBytes, as: UTF8.self)
    }

    /// Builds a digest from raw hash bytes.
    public init(algorithm: DigestAlgorithm, rawBytes: some Collection<UInt8>) {
        precondition(rawBytes.count == algorithm.byteCount, "digest length does not match \(algorithm)")
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(rawBytes.count * 2)
        for byte in rawBytes {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        self.algorithm = algorithm
        self.encoded = String(decoding: out, as: UTF8.self)
    }

    /// Whether `string` parses as a digest. Convenience for callers that only branch.
    public static func isValid(_ string: some StringProtocol) -> Bool {
        (try? Digest(parsing: string)) != nil
    }

    public var description: String { "\(algorithm.rawValue):\(encoded)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do {
            self = try Digest(parsing: string)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // MARK: grammar

    private static func isAlphaNumLower(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    private static func isLowerHex(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    private static func isEncodedCharacter(_ c: UInt8) -> Bool {
        isAlphaNumLower(c) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "=") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    /// `[a-z0-9]+ ([+._-] [a-z0-9]+)*`
    private static func isValidAlgorithmSyntax(_ bytes: ArraySlice<UInt8>) -> Bool {
        var previousWasSeparator = true  // forbids a leading separator
        for c in bytes {
            if isAlphaNumLower(c) {
                previousWasSeparator = false
            } else if c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") {
                if previousWasSeparator { return false }
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return !previousWasSeparator
    }
}
