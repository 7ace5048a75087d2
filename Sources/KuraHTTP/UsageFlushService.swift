import KuraMetadata
import KuraRegistry
import Logging
import Metrics
import ServiceLifecycle

/// Writes the usage meter to the catalog every `interval` and once more at shutdown, and
/// refreshes the storage gauges (stored bytes per namespace, upload sessions open) every
/// `gaugeInterval`.
struct UsageFlushService: Service {
    let meter: UsageMeter?
    let gauges: StorageGauges?
    let interval: Duration
    let gaugeInterval: Duration
    let logger: Logger

    func run() async throws {
        let clock = ContinuousClock()
        var gaugesDue = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            await flush()
            if let gauges, clock.now >= gaugesDue {
                do { try await gauges.refresh() } catch { logger.warning("storage gauges not refreshed", metadata: ["error": "\(error)"]) }
                gaugesDue = clock.now.advanced(by: gaugeInterval)
            }
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
struct StorageGauges: Sendable {
    let store: any UsageStore
    let factory: any MetricsFactory

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
