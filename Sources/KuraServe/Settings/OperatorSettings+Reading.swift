extension ServerConfiguration.RequestRateSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("limits.requestsPerMinutePerKey", default: "\(defaults.perKeyPerMinute)", "Requests per minute per access key (0: no limit)."),
            .init("limits.requestsPerMinutePerAddress", default: "\(defaults.perAddressPerMinute)", "Requests per minute per source address (0: no limit)."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(
            perKeyPerMinute: try settings.nonNegative("limits.requestsPerMinutePerKey"),
            perAddressPerMinute: try settings.nonNegative("limits.requestsPerMinutePerAddress"))
    }
}

extension ServerConfiguration.UsageSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("usage.enabled", default: "\(defaults.enabled)", "Usage metering per namespace, repository and access key."),
            .init("usage.flushIntervalSeconds", default: "\(defaults.flushIntervalSeconds)", "Seconds between writes of counted usage to the catalog."),
            .init("usage.gaugeIntervalSeconds", default: "\(defaults.gaugeIntervalSeconds)", "Seconds between refreshes of the storage gauges."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(
            enabled: try settings.bool("usage.enabled"), flushIntervalSeconds: try settings.positive("usage.flushIntervalSeconds"),
            gaugeIntervalSeconds: try settings.positive("usage.gaugeIntervalSeconds"))
    }
}

extension ServerConfiguration.AccessLogSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        [
            .init("accessLog.enabled", default: "\(Self().enabled)", "JSON access log, one line per request."),
            .init("accessLog.path", default: "stdout", "A file to append the access log to, or stdout."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        let path = try settings.string("accessLog.path")
        guard !path.isEmpty else { throw ConfigurationError(key: "accessLog.path", "must be a file or stdout") }
        self.init(enabled: try settings.bool("accessLog.enabled"), path: path == "stdout" ? nil : path)
    }
}

extension ServerConfiguration.WebhookSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        let defaults = Self()
        return [
            .init("webhooks.enabled", default: "\(defaults.enabled)", "Deliver webhook events (webhooks are configured per namespace)."),
            .init("webhooks.maxAttempts", default: "\(defaults.maxAttempts)", "Delivery attempts per event."),
            .init("webhooks.initialBackoffMilliseconds", default: "\(defaults.initialBackoffMilliseconds)", "Delay before the first retry (doubling after)."),
            .init("webhooks.timeoutSeconds", default: "\(defaults.timeoutSeconds)", "Timeout of one delivery attempt."),
            .init("webhooks.queueCapacity", default: "\(defaults.queueCapacity)", "Events that may wait for delivery."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init(
            enabled: try settings.bool("webhooks.enabled"), maxAttempts: try settings.positive("webhooks.maxAttempts"),
            initialBackoffMilliseconds: try settings.nonNegative("webhooks.initialBackoffMilliseconds"),
            timeoutSeconds: try settings.positive("webhooks.timeoutSeconds"), queueCapacity: try settings.positive("webhooks.queueCapacity"))
    }
}
