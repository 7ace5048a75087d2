public import KuraCore
public import KuraHTTP
public import KuraMirror
public import KuraRegistry
public import KuraStorage

/// Everything `kura serve` needs, with the embedded defaults: a SQLite catalog and a local
/// data folder, on 127.0.0.1:5000.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Holds `storage/` (the blob store) and `catalog.sqlite`.
    public var dataDirectory: String
    public var limits: RegistryLimits
    /// How long a graceful shutdown waits for requests in flight.
    public var shutdownGraceSeconds: Int
    /// Access control: on by default; off only for tests and trusted, isolated setups.
    public var access: AccessSettings
    /// Garbage collection scheduled inside the server.
    public var gc: GarbageCollectionSchedule
    /// Where blobs live: the data folder (default) or S3, optionally behind a local cache.
    public var storage: StorageSettings
    /// Usage metering per namespace, repository and access key (on by default).
    public var usage = UsageSettings()
    /// Request-rate limits per access key and per source address (off by default).
    public var requestRates = RequestRateSettings()
    /// Structured access logs, one JSON line per request (off by default).
    public var accessLog = AccessLogSettings()
    /// Webhook delivery (on by default; webhooks are configured per namespace).
    public var webhooks = WebhookSettings()
    /// Image scanning: scan on push (on by default), against the offline advisory database.
    public var scan = ScanSettings()
    /// Namespaces that are pull-through caches of upstream registries.
    public var proxies: [ProxyNamespace] = []
    /// What `kura serve` logs.
    public var log = LogSettings()
    /// Where the catalog lives: SQLite in the data folder (default) or PostgreSQL.
    public var catalog = CatalogSettings()

    public struct StorageSettings: Sendable {
        public enum Backend: Sendable {
            case filesystem
            case s3(S3Configuration)
        }

        public var backend: Backend
        /// A bounded local cache in front of the backend (useful with S3).
        public var cache: (path: String, maxBytes: Int64)?
        /// Keep freshly pushed blobs in the cache too.
        public var keepWrites: Bool
        /// When set, blob GETs answer `307` to a presigned URL of the object valid this many
        /// seconds, so the bytes flow from the object store, not through Kura.
        public var redirectPullsSeconds: Int?
        /// `/readyz` reports storage `full` (503) below this much free space on a local disk.
        public var minimumFreeBytes: Int64 = Self.defaultMinimumFreeBytes
        public static let defaultMinimumFreeBytes: Int64 = HealthEndpoints.defaultMinimumFreeBytes

        public init(
            backend: Backend = .filesystem, cache: (path: String, maxBytes: Int64)? = nil, keepWrites: Bool = false,
            redirectPullsSeconds: Int? = nil
        ) {
            self.backend = backend
            self.cache = cache
            self.keepWrites = keepWrites
            self.redirectPullsSeconds = redirectPullsSeconds
        }
    }

    /// Timeouts and the per-address connection cap of every listener that sets none itself.
    public var connections = ConnectionSettings()

    /// The endpoints to serve. Empty: one listener on `host:port` serving every API, with
    /// anonymous pull of public namespaces (the `--listen` shorthand).
    public var listeners: [ListenerConfiguration] = []
    /// The web console's session lifetimes.
    public var console = ConsoleSettings()
    /// How often TLS listeners' certificate and key files are checked for changes.
    public var tlsReloadIntervalSeconds = 5
    /// Whether SIGHUP reloads TLS certificates (`kura serve`; off in tests sharing a process).
    public var tlsReloadOnSIGHUP = false

    /// ``listeners``, or the shorthand's single listener when none are configured.
    public var effectiveListeners: [ListenerConfiguration] {
        if !listeners.isEmpty {
            return listeners.map { listener in
                var listener = listener
                listener.connections = listener.connections ?? connections
                return listener
            }
        }
        return [ListenerConfiguration(name: "default", host: host, port: port, connections: connections)]
    }

    /// Where Prometheus metrics are served (`GET /metrics`); `nil` for nowhere. Keep it on
    /// a private address.
    public var metricsListen: (host: String, port: Int)?

    public struct GarbageCollectionSchedule: Sendable, Hashable {
        public var enabled: Bool
        public var intervalSeconds: Int
        public var graceSeconds: Int
        public var uploadExpirySeconds: Int

        public init(enabled: Bool = true, intervalSeconds: Int = 24 * 3600, graceSeconds: Int = 24 * 3600, uploadExpirySeconds: Int = 24 * 3600) {
            self.enabled = enabled
            self.intervalSeconds = intervalSeconds
            self.graceSeconds = graceSeconds
            self.uploadExpirySeconds = uploadExpirySeconds
        }
    }

    public struct AccessSettings: Sendable, Hashable {
        public var enabled: Bool
        /// A push into a namespace that does not exist creates it (off: refused).
        public var autoCreateNamespaces: Bool
        public var tokenLifetimeSeconds: Int
        /// The token `service` (audience).
        public var service: String
        /// Failed logins per minute after which an access key id is refused for a while.
        public var loginFailuresPerKey: Int
        /// Failed logins per minute after which a source address is refused for a while.
        public var loginFailuresPerAddress: Int

        public init(
            enabled: Bool = true, autoCreateNamespaces: Bool = false, tokenLifetimeSeconds: Int = 300, service: String = "kura",
            loginFailuresPerKey: Int = 10, loginFailuresPerAddress: Int = 100
        ) {
            self.enabled = enabled
            self.autoCreateNamespaces = autoCreateNamespaces
            self.tokenLifetimeSeconds = tokenLifetimeSeconds
            self.service = service
            self.loginFailuresPerKey = loginFailuresPerKey
            self.loginFailuresPerAddress = loginFailuresPerAddress
        }
    }

    public init(
        host: String = "127.0.0.1", port: Int = 5000, dataDirectory: String = "./kura-data",
        limits: RegistryLimits = RegistryLimits(), shutdownGraceSeconds: Int = 30, access: AccessSettings = AccessSettings(),
        gc: GarbageCollectionSchedule = GarbageCollectionSchedule(), metricsListen: (host: String, port: Int)? = nil,
        storage: StorageSettings = StorageSettings()
    ) {
        self.storage = storage
        self.gc = gc
        self.metricsListen = metricsListen
        self.access = access
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.limits = limits
        self.shutdownGraceSeconds = shutdownGraceSeconds
    }

    /// The data folder's files (see ``DataFolder``).
    public var dataFolder: DataFolder { DataFolder(dataDirectory) }
    public var storageDirectory: String { dataFolder.storage }
    public var catalogPath: String { dataFolder.catalog }
}
