/// How long a console session lives: `console.sessionIdleMinutes` without a request, and
/// `console.sessionMaxHours` after sign-in at most.
extension ServerConfiguration.ConsoleSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("console.sessionIdleMinutes", default: "\(defaults.sessionIdleMinutes)", "Minutes without a request after which a console session ends."),
            .init("console.sessionMaxHours", default: "\(defaults.sessionMaxHours)", "Hours after sign-in at which a console session ends, however active."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(sessionIdleMinutes: try settings.positive("console.sessionIdleMinutes"), sessionMaxHours: try settings.positive("console.sessionMaxHours"))
    }
}
