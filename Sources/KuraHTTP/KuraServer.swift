import Foundation
public import Hummingbird
public import KuraAccess
import KuraMetadata
public import KuraRegistry
import KuraStorage
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
        /// Counts usage when metering is on (and the catalog keeps usage).
        public var usage: UsageMeter? = nil
    }

    /// Opens the data folder (creating it) and wires the registry alone (jobs, tools).
    public static func makeRegistry(_ configuration: ServerConfiguration, logger: Logger) async throws -> Registry {
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
        let catalog = try SQLiteMetadataStore(path: configuration.catalogPath)
        return Registry(blobs: BlobStore(backend: backend), catalog: catalog, limits: configuration.limits, logger: logger)
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
        let meter = configuration.usage.enabled ? (registry.catalog as? any UsageStore).map { UsageMeter(store: $0) } : nil
        guard configuration.access.enabled else { return Services(registry: registry, access: nil, rootCredentials: nil, usage: meter) }
        guard let catalog = registry.catalog as? any AccessStore else { throw StartupError(description: "this catalog has no access store") }
        let (access, root) = try await AccessBootstrap.open(
            dataDirectory: configuration.dataDirectory, store: catalog, autoCreateNamespaces: configuration.access.autoCreateNamespaces,
            service: configuration.access.service, tokenLifetime: TimeInterval(configuration.access.tokenLifetimeSeconds),
            limiter: LoginRateLimiter(keyLimit: configuration.access.loginFailuresPerKey, addressLimit: configuration.access.loginFailuresPerAddress),
            logger: logger)
        return Services(registry: registry, access: access, rootCredentials: root, usage: meter)
    }

    /// The application serving `services`. `onServerRunning` receives the bound channel
    /// (its `localAddress` tells the port when the configuration asked for port 0).
    /// With `metricsRegistry` and `configuration.metricsListen`, a second listener serves
    /// `GET /metrics` (the caller bootstraps swift-metrics with ``MetricsEndpoint/factory``).
    public static func makeApplication(
        _ configuration: ServerConfiguration, services: Services, logger: Logger, metricsRegistry: PrometheusCollectorRegistry? = nil,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> App {
        let servicesRegistry = services.registry
        let router = Router(context: KuraRequestContext.self)
        let features = OperatorFeatures(configuration, services: services, metricsRegistry: metricsRegistry, logger: logger)
        router.middlewares.add(features.observer)
        router.middlewares.add(LogRequestsMiddleware(.info))
        var registryAPI = RegistryAPI(registry: services.registry, access: services.access, rateLimiter: features.rateLimiter)
        registryAPI.webhooks = features.webhooks
        registryAPI.register(on: router)
        HealthEndpoints(registry: services.registry).register(on: router)
        if let access = services.access {
            TokenEndpoint(access: access).register(on: router)
            AdminAPI(admin: AccessAdmin(access: access, registry: services.registry), meter: services.usage, webhooks: features.webhooks)
                .register(on: router)
        }
        var services: [any Service] = features.services
        if let metricsRegistry, let listen = configuration.metricsListen {
            services.append(MetricsEndpoint.application(host: listen.host, port: listen.port, registry: metricsRegistry, logger: logger))
        }
        if configuration.gc.enabled {
            var options = GarbageCollectionOptions()
            options.gracePeriod = TimeInterval(configuration.gc.graceSeconds)
            options.uploadExpiry = TimeInterval(configuration.gc.uploadExpirySeconds)
            services.append(
                GarbageCollectionScheduler(
                    registry: servicesRegistry, interval: .seconds(max(1, configuration.gc.intervalSeconds)), options: options,
                    logger: logger, webhooks: features.webhooks))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "Kura"),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
