/// A configuration value that cannot be used, naming the key it came from and the key's
/// environment variable.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The key's path (`listeners.0.address`), when the problem is one key's.
    public var key: String?
    /// How the key is named in the message: its path, or for a list entry its name
    /// (`listeners[public].address`, `proxies.hub.fillWindowBytes`).
    public var label: String?
    public var problem: String

    public init(_ problem: String) {
        self.problem = problem
    }

    public init(key path: String, _ problem: String) {
        key = path
        label = path
        self.problem = problem
    }

    /// "gc.intervalSeconds must be positive, not 0 (KURA_GC_INTERVAL_SECONDS)".
    public var description: String {
        guard let key, let label else { return problem }
        return "\(label) \(problem) (\(ConfigurationKey.environmentVariable(for: key)))"
    }

    /// The same error with a list entry's index prefix (`proxies.0`) shown as its name.
    func labelling(_ prefix: String, as name: String) -> ConfigurationError {
        var copy = self
        if let label, label.hasPrefix(prefix) { copy.label = name + label.dropFirst(prefix.count) }
        return copy
    }
}
