public import KuraRegistry

extension RegistryLimits: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("limits.maxManifestBytes", default: "\(defaults.maxManifestBytes)", "Largest manifest accepted."),
            .init("limits.maxBlobBytes", default: defaults.maxBlobBytes.map { "\($0)" }, "Largest blob accepted (unset: no limit)."),
            .init("limits.maxPageSize", default: "\(defaults.maxPageSize)", "Most entries one catalog or tags page returns."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(
            maxManifestBytes: try settings.positive("limits.maxManifestBytes"),
            maxBlobBytes: try settings.optionalInt("limits.maxBlobBytes", in: 1...Int64.max, meaning: "positive"),
            maxPageSize: try settings.positive("limits.maxPageSize"))
    }
}
