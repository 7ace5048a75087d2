extension ServerConfiguration.AccessSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("access.enabled", default: "\(defaults.enabled)", "Access control (accounts, keys, tokens); off only for trusted, isolated setups."),
            .init("access.autoCreateNamespaces", default: "\(defaults.autoCreateNamespaces)", "A push into a namespace that does not exist creates it."),
            .init("access.tokenLifetimeSeconds", default: "\(defaults.tokenLifetimeSeconds)", "Lifetime of registry bearer tokens."),
            .init("access.service", default: defaults.service, "The token service (audience)."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(
            enabled: try settings.bool("access.enabled"), autoCreateNamespaces: try settings.bool("access.autoCreateNamespaces"),
            tokenLifetimeSeconds: try settings.positive("access.tokenLifetimeSeconds"), service: try settings.string("access.service"))
        guard !service.isEmpty else { throw ConfigurationError(key: "access.service", "must not be empty") }
    }
}
