import KuraRegistry
public import KuraScan
import KuraMetadata
import Logging
import ServiceLifecycle

/// The server's image scanning: the scan service (its queue drained by ``ScanWorker``),
/// the pull policy every manifest GET passes, both over the catalog's scan store.
public struct ScanningServices: Sendable {
    public var service: ScanService
    public var policy: ScanPullPolicy

    /// Opens the advisory database (each node keeps its own) and registers the pull policy
    /// and, with `scan.onPush`, the sink that queues pushed images.
    static func open(_ configuration: ServerConfiguration, registry: Registry, logger: Logger) throws -> ScanningServices {
        let store = registry.catalog.scans
        let database = try AdvisoryDatabase(path: configuration.advisoryDatabasePath)
        let service = ScanService(
            registry: registry, store: store, scanner: ImageScanner(database: database),
            settings: .init(concurrency: configuration.scan.concurrency, queueCapacity: configuration.scan.queueCapacity), logger: logger)
        let policy = ScanPullPolicy(store: store, changes: registry.catalog.changes)
        registry.pullChecks.register(policy)
        if configuration.scan.onPush { registry.events.register(ScanOnPushSink(service: service)) }
        return ScanningServices(service: service, policy: policy)
    }
}

/// Runs queued scans as one of the server's services; stops with it.
struct ScanWorker: Service {
    let service: ScanService

    func run() async throws {
        await cancelWhenGracefulShutdown { await service.run() }
    }
}
