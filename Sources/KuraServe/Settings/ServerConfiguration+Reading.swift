import KuraHTTP
import KuraMirror
import KuraRegistry

/// The configuration tree: the top-level keys here, each section's keys in its own settings
/// struct (`GarbageCollectionSchedule`, `StorageSettings`, …).
extension ServerConfiguration {
    /// Every key `kura serve` reads, in the order of the documentation.
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = ServerConfiguration()
        let topLevel: [ConfigurationKey] = [
            .init("dataDirectory", default: defaults.dataDirectory, "Holds storage/ (the blob store) and catalog.sqlite."),
            .init("shutdownGraceSeconds", default: "\(defaults.shutdownGraceSeconds)", "How long a graceful shutdown waits for requests in flight."),
            .init("metricsListen", default: "127.0.0.1:5001", "HOST:PORT serving Prometheus metrics, or off."),
        ]
        return ListenerSettings.configurationKeys + topLevel + LogSettings.configurationKeys + RegistryLimits.configurationKeys
            + RequestRateSettings.configurationKeys + AccessSettings.configurationKeys + GarbageCollectionSchedule.configurationKeys
            + StorageSettings.configurationKeys + UsageSettings.configurationKeys + AccessLogSettings.configurationKeys
            + WebhookSettings.configurationKeys + ScanSettings.configurationKeys + ProxyNamespace.configurationKeys
            + ConnectionSettings.configurationKeys + ConsoleSettings.configurationKeys + CatalogSettings.configurationKeys
    }

    /// Reads and checks the whole tree; the first bad value is thrown, naming its key.
    public init(reading sources: ConfigurationSources) throws {
        try self.init(reading: SettingsReader(sources: sources, keys: Self.configurationKeys))
    }

    public init(reading settings: SettingsReader) throws {
        self.init()
        connections = try ConnectionSettings(reading: settings)
        let listenerSettings = try ListenerSettings(reading: settings, connections: connections)
        host = listenerSettings.host
        port = listenerSettings.port
        listeners = listenerSettings.listeners
        tlsReloadIntervalSeconds = listenerSettings.tlsReloadIntervalSeconds
        dataDirectory = try settings.string("dataDirectory")
        guard !dataDirectory.isEmpty else { throw ConfigurationError(key: "dataDirectory", "must not be empty") }
        shutdownGraceSeconds = try settings.nonNegative("shutdownGraceSeconds")
        let metrics = try settings.string("metricsListen")
        metricsListen = metrics == "off" ? nil : try settings.hostAndPort("metricsListen")
        log = try LogSettings(reading: settings)
        limits = try .init(reading: settings)
        requestRates = try .init(reading: settings)
        access = try .init(reading: settings)
        gc = try .init(reading: settings)
        storage = try .init(reading: settings)
        usage = try .init(reading: settings)
        accessLog = try .init(reading: settings)
        webhooks = try .init(reading: settings)
        scan = try .init(reading: settings)
        proxies = try ProxyNamespace.all(reading: settings)
        console = try .init(reading: settings)
        catalog = try .init(reading: settings)
    }

    /// `kura serve --help`'s list: every key, its environment variable and default.
    public static var keysHelp: String {
        configurationKeys.map { key in
            let fallback = key.defaultValue.map { $0.isEmpty ? " (default empty)" : " (default \($0))" } ?? ""
            return "\(key.path) / \(key.environmentVariable)\(fallback): \(key.summary)"
        }
        .joined(separator: "\n")
    }
}
