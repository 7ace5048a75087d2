/// Why a string is not an acceptable repository name.
public enum RepositoryNameError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case tooLong(Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .empty: "repository name is empty"
        case .tooLong(let n): "repository name is \(n) characters long; the limit is \(RepositoryName.maximumLength)"
        case .invalid(let s): "invalid repository name \(s.debugDescription)"
        }
    }
}

/// A repository name such as `team/app` — the `<name>` of the OCI distribution spec.
///
/// Grammar: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`, at
/// most 255 characters. Validation is hand-written (no regex) because it sits on every
/// request's path.
public struct RepositoryName: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public static let maximumLength = 255

    public let value: String

    public init(parsing string: some StringProtocol) throws(RepositoryNameError) {
        let text = String(string)
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= Self.maximumLength else { throw .tooLong(bytes.count) }
        for component in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard Self.isValidComponent(component) else { throw .invalid(text) }
        }
        self.value = text
    }

    /// The path components, e.g. `["team", "app"]`.
    public var components: [Substring] { value.split(separator: "/") }

    /// The first component, which later layers treat as the namespace.
    public var firstComponent: Substring { components[0] }

    public var description: String { value }

    public static func < (lhs: RepositoryName, rhs: RepositoryName) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do { self = try RepositoryName(parsing: string) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    private static func isValidComponent(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let c = bytes[index]
            if isAlnum(c) {
                index += 1
                continue
            }
            // A separator run: ".", "_", "__", or one or more "-".
            var end = index
            while end < bytes.endIndex, !isAlnum(bytes[end]) { end += 1 }
            let run = bytes[index..<end]
            let valid: Bool
            if run.count == 1 {
                valid = c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            } else if run.allSatisfy({ $0 == UInt8(ascii: "-") }) {
                valid = true
            } else {
                valid = run.count == 2 && run.allSatisfy { $0 == UInt8(ascii: "_") }
            }
            guard valid else { return false }
            index = end
        }
        return true
    }
}
