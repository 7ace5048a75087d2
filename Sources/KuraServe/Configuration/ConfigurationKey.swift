/// One setting of `kura serve`: its dotted path in the configuration tree, its default and
/// what it does. The environment variable follows from the path by one rule (see
/// ``environmentVariable``), the same rule swift-configuration's environment provider uses.
public struct ConfigurationKey: Sendable, Hashable {
    /// `gc.intervalSeconds`; list entries use `*` for the index (`listeners.*.address`).
    public var path: String
    /// The value used when no source sets the key, as written in YAML; `nil` when the key
    /// is optional (unset means off or "not configured").
    public var defaultValue: String?
    public var summary: String
    /// Never printed (passwords, secret keys).
    public var isSecret: Bool

    public init(_ path: String, default defaultValue: String?, _ summary: String, isSecret: Bool = false) {
        self.path = path
        self.defaultValue = defaultValue
        self.summary = summary
        self.isSecret = isSecret
    }

    /// `KURA_` and the path's components, camelCase split at each lower-to-upper boundary,
    /// upper-cased and joined with `_`: `storage.s3.accessKeyID` is
    /// `KURA_STORAGE_S3_ACCESS_KEY_ID`, `listeners.*.address` is `KURA_LISTENERS_<n>_ADDRESS`.
    public var environmentVariable: String { Self.environmentVariable(for: path) }

    public static func environmentVariable(for path: String) -> String {
        let components = ["kura"] + path.split(separator: ".").map(String.init)
        return components.map { component -> String in
            if component == "*" { return "<n>" }
            var words = ""
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase { words.append("_") }
                words.append(character)
                previous = character
            }
            return words.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        }
        .joined(separator: "_")
    }

    /// The path with list indexes replaced by `*` (`listeners.0.address` → `listeners.*.address`).
    static func pattern(of path: String) -> String {
        path.split(separator: ".").map { $0.allSatisfy(\.isNumber) ? "*" : String($0) }.joined(separator: ".")
    }
}
