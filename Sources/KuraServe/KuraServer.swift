import Foundation
public import KuraHTTP
public import Hummingbird
public import KuraAccess
public import KuraDashboard
import KuraMetadata
public import KuraMirror
public import KuraRegistry
import KuraScan
public import KuraStorage
public import Logging
public import NIOCore
import ServiceLifecycle
public import Prometheus

/// Builds the HTTP application for a configuration: storage, catalog, access control,
/// registry and routes.
public enum KuraServer {
    public typealias App = Application<RouterResponder<KuraRequestContext>>

    /// Why the server cannot start.
    public struct StartupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The services behind the routes.
    public struct Services: Sendable {
        public var registry: Registry
        public var access: AccessControl?
        /// Set on the first start with access control: shown once, never logged.
        public var rootCredentials: RootCredentials?
        /// Counts usage when metering is on.
        public var usage: UsageMeter? = nil
        /// The pull-through cache of proxy namespaces, when any are configured.
        public var proxy: PullThroughCache? = nil
        /// Replication rules (managed through the admin API, so only with access control).
        public var replicator: Replicator? = nil
        /// Image scanning (results and policies in the catalog), when the catalog keeps scans.
        public var scanning: ScanningServices? = nil
        /// Paces the background services (GC, usage flushes, webhook retries, certificate
        /// polls); tests set a manual clock.
        public var clock: any Clock<Duration> = ContinuousClock()
        /// The web console, on listeners serving `dashboard` (only with access control: it
        /// signs in with access keys).
        public var dashboard: Dashboard? = nil

        /// Closes the databases the services opened (the SQLite catalog and the advisory
        /// database): their file handles go now, not whenever the last reference does. Call
        /// it once the application has stopped.
        public func close() {
            try? registry.catalog.embedded?.close()
            try? scanning?.service.scanner.matcher.database.close()
        }
    }

    /// Opens the data folder (creating it) and wires the registry alone (jobs, tools).
    public static func makeRegistry(_ configuration: ServerConfiguration, logger: Logger) async throws -> Registry {
        let blobs = try await makeBlobStore(configuration)
        let catalog = try await openCatalog(configuration, logger: logger)
        return Registry(
            blobs: blobs, catalog: catalog, limits: configuration.limits,
            pullRedirectExpiry: configuration.storage.redirectPullsSeconds.map { .seconds($0) },
            lookupCacheLifetime: .milliseconds(configuration.catalog.lookupCacheMilliseconds), logger: logger)
    }

    /// The configured catalog: SQLite in the data folder, or PostgreSQL (migrated at start).
    static func openCatalog(_ configuration: ServerConfiguration, logger: Logger) async throws -> Catalog {
        switch configuration.catalog.backend {
        case .sqlite:
            return Catalog(try SQLiteMetadataStore(path: configuration.catalogPath))
        case .postgres(let url, let poolSize):
            do {
                return Catalog(try await PostgresCatalog.open(url: url, poolSize: poolSize, logger: logger))
            } catch {
                throw StartupError(description: "\(error)")
            }
        }
    }

    /// The configured storage alone, without opening the catalog (restore).
    public static func makeBlobStore(_ configuration: ServerConfiguration) async throws -> BlobStore {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        var backend: any ObjectBackend
        switch configuration.storage.backend {
        case .filesystem: backend = try FileSystemBackend(root: configuration.storageDirectory)
        case .s3(let s3): backend = S3Backend(configuration: s3)
        }
        if let cache = configuration.storage.cache {
            backend = try await TieredBackend(
                remote: backend, cacheDirectory: cache.path, maxBytes: cache.maxBytes, keepWrites: configuration.storage.keepWrites)
        }
        return BlobStore(backend: backend)
    }

    /// Opens the data folder (creating it) and wires the registry and access control.
    public static func open(_ configuration: ServerConfiguration, logger: Logger) async throws -> Services {
        let registry = try await makeRegistry(configuration, logger: logger)
        // Fail at start, with the backend's own words, rather than on the first push.
        do {
            try await HealthEndpoints.probeStorage(registry.blobs.backend)
        } catch {
            throw StartupError(description: "storage (\(registry.blobs.backend.name)) is not usable: \(error)")
        }
        let meter = configuration.usage.enabled ? UsageMeter(store: registry.catalog.usage) : nil
        // Each tag's last pull, kept by the meter until its flush.
        if let meter { registry.events.register(meter.pulls) }
        let proxy = configuration.proxies.isEmpty ? nil : PullThroughCache(registry: registry, proxies: configuration.proxies, logger: logger)
        let scanning = try ScanningServices.open(configuration, registry: registry, logger: logger)
        guard configuration.access.enabled else {
            return Services(registry: registry, access: nil, rootCredentials: nil, usage: meter, proxy: proxy, scanning: scanning)
        }
        let (access, root) = try await AccessBootstrap.open(
            dataDirectory: configuration.dataDirectory, store: registry.catalog.access, sharedKeys: registry.catalog.sharedKeys,
            autoCreateNamespaces: configuration.access.autoCreateNamespaces,
            service: configuration.access.service, tokenLifetime: TimeInterval(configuration.access.tokenLifetimeSeconds),
            limiter: LoginRateLimiter(keyLimit: configuration.access.loginFailuresPerKey, addressLimit: configuration.access.loginFailuresPerAddress),
            changes: registry.catalog.changes, logger: logger)
        // Nodes sharing a catalog seal replication passwords with one key from it.
        var sealingKey: Data?
        if let keys = registry.catalog.sharedKeys {
            sealingKey = try await AccessBootstrap.key(configuration.dataFolder.secretsSharedKey, shared: keys) { AccessBootstrap.randomKey() }
        }
        let replicator = try await Replicator(
            dataDirectory: configuration.dataDirectory, catalog: registry.catalog.replication, sealingKey: sealingKey,
            leases: registry.catalog.collection, logger: logger)
        // The registry's operations announce themselves to these (and to webhooks, see
        // OperatorFeatures).
        registry.events.register(AuditSink(access: access))
        registry.events.register(replicator)
        var services = Services(
            registry: registry, access: access, rootCredentials: root, usage: meter, proxy: proxy, replicator: replicator, scanning: scanning)
        let sessions = ConsoleSessions(
            store: registry.catalog.consoleSessions, idleTimeout: TimeInterval(configuration.console.sessionIdleMinutes * 60), absoluteTimeout: TimeInterval(configuration.console.sessionMaxHours * 3600))
        services.dashboard = try Dashboard(admin: AccessAdmin(access: access, registry: registry), sessions: sessions, meter: meter)
        return services
    }

    /// The application serving `services` on every listener of the configuration (see
    /// ``ServerConfiguration/effectiveListeners``): the first listener's application, with
    /// the other listeners, the metrics listener, scheduled GC and certificate reloading as
    /// its services, so `runService()` runs and stops them together. `onServerRunning`
    /// receives each listener with its bound channel (its `localAddress` tells the port
    /// when the listener asked for port 0). With `metricsRegistry` and
    /// `configuration.metricsListen`, another listener serves `GET /metrics` (the caller
    /// bootstraps swift-metrics with ``MetricsEndpoint/factory``).
    public static func makeApplication(
        _ configuration: ServerConfiguration, services: Services, logger: Logger, metricsRegistry: PrometheusCollectorRegistry? = nil,
        onServerRunning: @escaping @Sendable (ListenerConfiguration, any Channel) async -> Void = { _, _ in }
    ) throws -> App {
        try makeEndpoints(configuration, services: services, logger: logger, metricsRegistry: metricsRegistry, onServerRunning: onServerRunning)
            .application
    }

    /// What ``makeEndpoints(_:services:logger:metricsRegistry:onServerRunning:)`` builds.
    public struct Endpoints: Sendable {
        /// Runs every listener and background service.
        public var application: App
        /// The certificate of each TLS listener, by listener name (``TLSCertificateStore/reload()``
        /// swaps it for new handshakes).
        public var certificates: [String: TLSCertificateStore]
    }

    /// As ``makeApplication(_:services:logger:metricsRegistry:onServerRunning:)``, also
    /// handing back the TLS listeners' certificate stores. Throws when a TLS listener's
    /// certificate or key cannot be loaded.
    public static func makeEndpoints(
        _ configuration: ServerConfiguration, services: Services, logger: Logger, metricsRegistry: PrometheusCollectorRegistry? = nil,
        onServerRunning: @escaping @Sendable (ListenerConfiguration, any Channel) async -> Void = { _, _ in }
    ) throws -> Endpoints {
        let features = OperatorFeatures(configuration, services: services, metricsRegistry: metricsRegistry, logger: logger)
        let replicationListener = configuration.effectiveListeners.first { $0.apis.contains(.v2) && $0.tls == nil }?.name
        var certificates: [String: TLSCertificateStore] = [:]
        var applications: [App] = []
        for listener in configuration.effectiveListeners {
            var store: TLSCertificateStore?
            if let files = listener.tls {
                do { store = try TLSCertificateStore(files: files) } catch {
                    throw StartupError(description: "listener \(listener.name): \(error)")
                }
                certificates[listener.name] = store
            }
            applications.append(
                Application(
                    router: ListenerRouter.make(for: listener, features.routeComponents(services)),
                    server: ListenerChannels.serverBuilder(for: listener, certificate: store, logger: logger),
                    configuration: ApplicationConfiguration(address: .hostname(listener.host, port: listener.port), serverName: "Kura"),
                    onServerRunning: { channel in
                        // Replication reaches this registry through its first plain-HTTP v2 listener.
                        if listener.name == replicationListener, let replicator = services.replicator, let port = channel.localAddress?.port {
                            let host = ["0.0.0.0", "::", ""].contains(listener.host) ? "127.0.0.1" : listener.host
                            await replicator.setLocalURL("http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
                        }
                        await onServerRunning(listener, channel)
                    },
                    logger: logger))
        }
        var background: [any Service] = Array(applications.dropFirst()) + features.services
        if let replicator = services.replicator { background.append(ReplicationScheduler(replicator: replicator)) }
        if let scanning = services.scanning { background.append(ScanWorker(service: scanning.service)) }
        if let metricsRegistry, let listen = configuration.metricsListen {
            background.append(MetricsEndpoint.application(host: listen.host, port: listen.port, registry: metricsRegistry, logger: logger))
        }
        if configuration.gc.enabled {
            var options = GarbageCollectionOptions()
            options.gracePeriod = TimeInterval(configuration.gc.graceSeconds)
            options.uploadExpiry = TimeInterval(configuration.gc.uploadExpirySeconds)
            background.append(
                GarbageCollectionScheduler(
                    registry: services.registry, interval: .seconds(configuration.gc.intervalSeconds), options: options,
                    logger: logger, clock: services.clock))
        }
        // Trapped even without TLS listeners, so a SIGHUP never stops `kura serve`.
        if !certificates.isEmpty || configuration.tlsReloadOnSIGHUP {
            background.append(
                CertificateReloader(
                    stores: certificates.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                    interval: .seconds(configuration.tlsReloadIntervalSeconds), reloadOnSIGHUP: configuration.tlsReloadOnSIGHUP,
                    logger: logger, clock: services.clock))
        }
        var first = applications[0]
        first.services = background
        return Endpoints(application: first, certificates: certificates)
    }
}
