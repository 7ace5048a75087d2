package import KuraMetadata
package import KuraRegistry
package import Logging
package import Metrics
import ServiceLifecycle

/// Writes the usage meter to the catalog every `interval` and once more at shutdown,
/// refreshes the storage gauges (stored bytes per namespace, upload sessions open) every
/// `gaugeInterval`, and records each namespace's stored bytes as the day's sample every
/// `sampleInterval` (the usage page's stored bytes over time).
package struct UsageFlushService: Service {
    let meter: UsageMeter?
    let gauges: StorageGauges?
    let interval: Duration
    let gaugeInterval: Duration
    let sampleInterval: Duration
    let logger: Logger
    /// Paces the flushes (a test's manual clock).
    let clock: any Clock<Duration>

    package init(
        meter: UsageMeter?, gauges: StorageGauges?, interval: Duration, gaugeInterval: Duration, sampleInterval: Duration = .seconds(3600),
        logger: Logger, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.meter = meter
        self.gauges = gauges
        self.interval = interval
        self.gaugeInterval = gaugeInterval
        self.sampleInterval = sampleInterval
        self.logger = logger
        self.clock = clock
    }

    package func run() async throws {
        // Time since the gauges were refreshed and stored bytes sampled, counted in flush
        // intervals; the first tick does both.
        var sinceGauges = gaugeInterval, sinceSample = sampleInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            } catch {
                break
            }
            await flush()
            if let gauges, sinceGauges >= gaugeInterval {
                do { try await gauges.refresh() } catch { logger.warning("storage gauges not refreshed", metadata: ["error": "\(error)"]) }
                sinceGauges = .zero
            }
            if let meter, sinceSample >= sampleInterval {
                do { try await meter.sampleStorage() } catch { logger.warning("stored bytes not sampled", metadata: ["error": "\(error)"]) }
                sinceSample = .zero
            }
            sinceGauges += interval
            sinceSample += interval
        }
        await flush()
    }

    private func flush() async {
        guard let meter else { return }
        do { try await meter.flush() } catch { logger.error("usage not written; kept for the next flush", metadata: ["error": "\(error)"]) }
    }
}

/// Gauges of what the catalog holds: physical stored bytes per namespace and open upload
/// sessions.
package struct StorageGauges: Sendable {
    let store: any UsageStore
    let factory: any MetricsFactory

    package init(store: any UsageStore, factory: any MetricsFactory) {
        self.store = store
        self.factory = factory
    }

    func refresh() async throws {
        for namespace in try await store.storage(namespace: nil) {
            Gauge(label: "kura_storage_physical_bytes", dimensions: [("namespace", namespace.namespace)], factory: factory)
                .record(namespace.physicalBytes)
            Gauge(label: "kura_storage_logical_bytes", dimensions: [("namespace", namespace.namespace)], factory: factory)
                .record(namespace.logicalBytes)
        }
        Gauge(label: "kura_upload_sessions_open", factory: factory).record(try await store.openUploadCount())
    }
}
