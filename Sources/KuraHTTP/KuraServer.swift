import Foundation
public import Hummingbird
import KuraMetadata
public import KuraRegistry
import KuraStorage
public import Logging
public import NIOCore

/// Builds the HTTP application for a configuration: storage, catalog, registry and routes.
public enum KuraServer {
    public typealias App = Application<RouterResponder<BasicRequestContext>>

    /// Opens the data folder (creating it) and wires the registry.
    public static func makeRegistry(_ configuration: ServerConfiguration, logger: Logger) throws -> Registry {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let backend = try FileSystemBackend(root: configuration.storageDirectory)
        let catalog = try SQLiteMetadataStore(path: configuration.catalogPath)
        return Registry(blobs: BlobStore(backend: backend), catalog: catalog, limits: configuration.limits, logger: logger)
    }

    /// The application serving `registry`. `onServerRunning` receives the bound channel
    /// (its `localAddress` tells the port when the configuration asked for port 0).
    public static func makeApplication(
        _ configuration: ServerConfiguration, registry: Registry, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> App {
        let router = Router()
        router.middlewares.add(LogRequestsMiddleware(.info))
        RegistryAPI(registry: registry).register(on: router)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "Kura"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
