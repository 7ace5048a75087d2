import KuraAccess
import KuraDashboard
import KuraHTTP
import KuraMetadata
import KuraRegistry
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// What an operator configures around the registry, built once per application: request
/// metrics, usage metering, access logs, request-rate limits and webhooks, with the
/// background services they need.
struct OperatorFeatures {
    let observer: RequestObserver
    let rateLimiter: RequestRateLimiter?
    let webhooks: WebhookDispatcher?
    /// Free space below which `/readyz` reports storage full.
    let minimumFreeBytes: Int64
    /// Flushing usage, refreshing gauges, writing access logs, delivering webhooks.
    let services: [any Service]

    init(_ configuration: ServerConfiguration, services: KuraServer.Services, metricsRegistry: PrometheusCollectorRegistry?, logger: Logger) {
        let metricsFactory = metricsRegistry.map { MetricsEndpoint.factory(registry: $0) }
        let httpMetrics = configuration.metricsListen == nil ? nil : metricsFactory.map { HTTPMetrics(factory: $0) }
        let accessLog = configuration.accessLog.enabled ? AccessLog(path: configuration.accessLog.path, logger: logger) : nil
        minimumFreeBytes = configuration.storage.minimumFreeBytes
        observer = RequestObserver(metrics: httpMetrics, meter: services.usage, accessLog: accessLog)

        let rates = configuration.requestRates
        let limiter = RequestRateLimiter(
            perKeyPerMinute: rates.perKeyPerMinute, perAddressPerMinute: rates.perAddressPerMinute, clock: services.clock)
        rateLimiter = limiter.isEnabled ? limiter : nil
        webhooks = Self.webhookDispatcher(configuration, services: services, logger: logger)
        if let webhooks { services.registry.events.register(webhooks) }

        var gauges: StorageGauges?
        if httpMetrics != nil, let metricsFactory {
            gauges = StorageGauges(store: services.registry.catalog.usage, factory: metricsFactory)
        }
        var background: [any Service] = []
        if services.usage != nil || gauges != nil {
            background.append(
                UsageFlushService(
                    meter: services.usage, gauges: gauges, interval: .seconds(configuration.usage.flushIntervalSeconds),
                    gaugeInterval: .seconds(configuration.usage.gaugeIntervalSeconds), logger: logger, clock: services.clock))
        }
        if let accessLog { background.append(accessLog) }
        if let webhooks { background.append(webhooks) }
        self.services = background
    }

    /// What every listener's routes share.
    func routeComponents(_ services: KuraServer.Services) -> ListenerRouter.Components {
        var components = ListenerRouter.Components(
            registry: services.registry, access: services.access, usage: services.usage, proxy: services.proxy,
            replicator: services.replicator, observer: observer, rateLimiter: rateLimiter, webhooks: webhooks)
        components.minimumFreeBytes = minimumFreeBytes
        components.scanning = services.scanning?.service
        components.scanPolicy = services.scanning?.policy
        components.dashboard = services.dashboard?.sharing(components)
        return components
    }

    /// Webhooks need the admin API (access control) to be configured.
    private static func webhookDispatcher(_ configuration: ServerConfiguration, services: KuraServer.Services, logger: Logger) -> WebhookDispatcher? {
        let settings = configuration.webhooks
        guard settings.enabled, let access = services.access else { return nil }
        return WebhookDispatcher(
            store: services.registry.catalog.webhooks, secrets: access.webhookSecrets,
            settings: .init(
                maxAttempts: settings.maxAttempts, initialBackoff: .milliseconds(settings.initialBackoffMilliseconds),
                timeout: .seconds(settings.timeoutSeconds), queueCapacity: settings.queueCapacity, concurrency: 16),
            logger: logger, clock: services.clock, changes: services.registry.catalog.changes)
    }
}
