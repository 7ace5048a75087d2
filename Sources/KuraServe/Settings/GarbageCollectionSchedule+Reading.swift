extension ServerConfiguration.GarbageCollectionSchedule: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("gc.enabled", default: "\(defaults.enabled)", "Run garbage collection inside the server."),
            .init("gc.intervalSeconds", default: "\(defaults.intervalSeconds)", "Seconds between scheduled collections."),
            .init("gc.graceSeconds", default: "\(defaults.graceSeconds)", "Unreferenced blobs younger than this are kept."),
            .init("gc.uploadExpirySeconds", default: "\(defaults.uploadExpirySeconds)", "Unfinished uploads older than this are removed."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(
            enabled: try settings.bool("gc.enabled"), intervalSeconds: try settings.positive("gc.intervalSeconds"),
            graceSeconds: try settings.nonNegative("gc.graceSeconds"), uploadExpirySeconds: try settings.positive("gc.uploadExpirySeconds"))
    }
}
