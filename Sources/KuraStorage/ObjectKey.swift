public import KuraCore

/// The name of an object in a backend, e.g. `blobs/sha256/ab/abcd…`.
///
/// Keys are `/`-separated components of `[A-Za-z0-9._-]`, none empty and none starting
/// with `.`, so a key can never climb out of a backend's root (`..`) or name a backend's
/// private files (which start with `.`).
public struct ObjectKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) throws(StorageError) {
        guard Self.isValid(value) else { throw .invalidKey(value) }
        self.value = value
    }

    /// The key of a verified blob: `blobs/<algorithm>/<first two hex>/<hex>`.
    public init(blob digest: Digest) {
        let prefix = digest.encoded.prefix(2)
        self.value = "blobs/\(digest.algorithm.rawValue)/\(prefix)/\(digest.encoded)"
    }

    /// The digest a ``init(blob:)`` key names, or `nil` for any other key.
    public var blobDigest: Digest? {
        let parts = value.split(separator: "/")
        guard parts.count == 4, parts[0] == "blobs", parts[2] == parts[3].prefix(2) else { return nil }
        return try? Digest(parsing: "\(parts[1]):\(parts[3])")
    }

    public var description: String { value }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { lhs.value < rhs.value }

    /// Appends a component.
    public func appending(_ component: String) throws(StorageError) -> ObjectKey {
        try ObjectKey("\(value)/\(component)")
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard Self.isValid(string) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid object key")
        }
        self.value = string
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    static func isValid(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 1024 else { return false }
        for component in value.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let first = component.first, first != UInt8(ascii: ".") else { return false }
            for c in component {
                let ok =
                    (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: ".")
                    || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
                if !ok { return false }
            }
        }
        return true
    }
}
