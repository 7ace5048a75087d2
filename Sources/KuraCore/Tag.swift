/// Why a string is not an acceptable tag.
public enum TagError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let s): "invalid tag \(s.debugDescription)"
        }
    }
}

/// A tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
public struct Tag: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public static let maximumLength = 128

    public let value: String

    public init(parsing string: some StringProtocol) throws(TagError) {
        let text = String(string)
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= Self.maximumLength,
            Self.isWordCharacter(first),
            bytes.allSatisfy({ Self.isWordCharacter($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else { throw .invalid(text) }
        self.value = text
    }

    public var description: String { value }

    public static func < (lhs: Tag, rhs: Tag) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do { self = try Tag(parsing: string) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    private static func isWordCharacter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
    }
}
