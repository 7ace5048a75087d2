public import Logging

/// What `kura serve` logs.
public struct LogSettings: ConfigurationSection, Sendable, Hashable {
    public var level: Logger.Level

    public init(level: Logger.Level = .info) {
        self.level = level
    }

    public static var configurationKeys: [ConfigurationKey] {
        [.init("log.level", default: Self().level.rawValue, "trace, debug, info, notice, warning, error or critical.")]
    }

    public init(reading settings: SettingsReader) throws {
        let text = try settings.string("log.level")
        guard let level = Logger.Level(rawValue: text) else {
            let known = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(key: "log.level", "must be one of \(known), not \(text)")
        }
        self.init(level: level)
    }
}
