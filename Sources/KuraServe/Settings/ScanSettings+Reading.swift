extension ServerConfiguration.ScanSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("scan.onPush", default: "\(defaults.onPush)", "Scan each pushed image in the background."),
            .init("scan.concurrency", default: "\(defaults.concurrency)", "Image scans running at once."),
            .init("scan.queueCapacity", default: "\(defaults.queueCapacity)", "Scans that may wait in the queue."),
            .init("scan.database", default: "", "The advisory database file (empty: advisories.sqlite in the data folder)."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(
            onPush: try settings.bool("scan.onPush"), concurrency: try settings.positive("scan.concurrency"),
            queueCapacity: try settings.positive("scan.queueCapacity"), database: try settings.string("scan.database"))
    }
}
