import Foundation
import Configuration

/// Reads keys of the configuration tree through swift-configuration, falling back to each
/// key's declared default, and parses them with errors that name the key. A settings struct
/// reads only keys it declares (asking for an undeclared key is a programming error), so the
/// key list — which the documentation, the example file and `--help` come from — is
/// complete.
public struct SettingsReader: Sendable {
    let combined: ConfigReader
    /// Lowest precedence first.
    let layers: [ConfigReader]
    let keys: [String: ConfigurationKey]
    /// See ``ConfigurationSources/environment``.
    public let environment: [String: String]

    public init(sources: ConfigurationSources, keys: [ConfigurationKey]) {
        // MultiProvider asks the first provider first: highest precedence first.
        combined = ConfigReader(providers: sources.layers.reversed().map(\.provider))
        layers = sources.layers.map { ConfigReader(providers: [$0.provider]) }
        environment = sources.environment
        self.keys = Dictionary(keys.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func declared(_ path: String) -> ConfigurationKey {
        guard let key = keys[ConfigurationKey.pattern(of: path)] else {
            preconditionFailure("configuration key \(path) is read but not declared")
        }
        return key
    }

    private func configKey(_ path: String) -> ConfigKey { ConfigKey(path.split(separator: ".").map(String.init)) }

    /// The value a source sets, or `nil`.
    public func setValue(_ path: String) throws -> String? {
        let key = declared(path)
        if let text = combined.string(forKey: configKey(path), isSecret: key.isSecret) { return text }
        if combined.stringArray(forKey: configKey(path)) != nil {
            throw ConfigurationError(key: path, "must be a single value, not a list")
        }
        return nil
    }

    /// Whether any source sets the key (defaults do not count).
    public func isSet(_ path: String) -> Bool {
        _ = declared(path)
        return combined.string(forKey: configKey(path)) != nil || combined.stringArray(forKey: configKey(path)) != nil
    }

    /// The highest-precedence source that sets the key (index, lowest precedence 0).
    public func layer(of path: String) -> Int? {
        _ = declared(path)
        return layers.lastIndex { $0.string(forKey: configKey(path)) != nil || $0.stringArray(forKey: configKey(path)) != nil }
    }

    /// The set value, else the default.
    public func text(_ path: String) throws -> String? {
        try setValue(path) ?? declared(path).defaultValue
    }

    public func string(_ path: String) throws -> String {
        guard let value = try text(path) else { throw ConfigurationError(key: path, "is required") }
        return value
    }

    public func bool(_ path: String) throws -> Bool {
        let text = try string(path)
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(key: path, "must be true or false, not \(text)")
        }
    }

    public func optionalInt(_ path: String, in range: ClosedRange<Int64>, meaning: String? = nil) throws -> Int64? {
        guard let text = try text(path) else { return nil }
        guard let value = Int64(text) else { throw ConfigurationError(key: path, "must be an integer, not \(text)") }
        guard range.contains(value) else {
            let bounds = meaning ?? (range.upperBound == .max ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)")
            throw ConfigurationError(key: path, "must be \(bounds), not \(value)")
        }
        return value
    }

    public func int(_ path: String, in range: ClosedRange<Int64>, meaning: String? = nil) throws -> Int {
        guard let value = try optionalInt(path, in: range, meaning: meaning) else { throw ConfigurationError(key: path, "is required") }
        return Int(value)
    }

    /// A positive number of seconds, bytes, attempts…
    public func positive(_ path: String) throws -> Int { try int(path, in: 1...Int64.max, meaning: "positive") }

    /// 0 turns the feature off.
    public func nonNegative(_ path: String) throws -> Int { try int(path, in: 0...Int64.max, meaning: "0 (off) or more") }

    /// A list: a YAML sequence, or comma-separated text (environment variables).
    public func strings(_ path: String) throws -> [String]? {
        let key = declared(path)
        if let list = combined.stringArray(forKey: configKey(path), isSecret: key.isSecret) { return list }
        if let text = combined.string(forKey: configKey(path), isSecret: key.isSecret) {
            return text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return key.defaultValue.map { $0.isEmpty ? [] : $0.split(separator: ",").map(String.init) }
    }

    /// `HOST:PORT` or `[IPv6]:PORT`.
    public func hostAndPort(_ path: String) throws -> (host: String, port: Int) {
        let text = try string(path)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError(key: path, "must be HOST:PORT, not \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ConfigurationError(key: path, "needs a host, not \(text)") }
        return (host, port)
    }

    /// How many entries a list of mappings has (`listeners.0…`, `listeners.1…`): entries
    /// are counted while any of `fields` is set at the next index.
    public func count(_ list: String, fields: [String]) -> Int {
        var index = 0
        while fields.contains(where: { isSet("\(list).\(index).\($0)") }) { index += 1 }
        return index
    }
}
