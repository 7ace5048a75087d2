import Foundation
import KuraHTTP
import KuraRegistry
import KuraStorage
import Yams

/// Reads `kura serve`'s configuration: embedded defaults, then a YAML file, then `KURA_*`
/// environment variables, then command-line flags — each overriding the one before.
struct ServeConfigurationLoader {
    struct ConfigurationError: Error, CustomStringConvertible {
        var description: String
    }

    /// The YAML file's shape. Every field is optional; absent fields keep their default.
    struct File: Decodable {
        var listen: String?
        var host: String?
        var port: Int?
        var dataDirectory: String?
        var limits: Limits?
        var log: Log?
        var shutdownGraceSeconds: Int?
        var access: Access?
        var gc: GC?
        var storage: Storage?
        var usage: Usage?
        var accessLog: AccessLog?
        var webhooks: Webhooks?
        /// Timeouts and the per-address cap (ServeConfigurationLoader+Connections.swift).
        var connections: Connections?

        struct Webhooks: Decodable {
            var enabled: Bool?
            var maxAttempts: Int?
            var initialBackoffMilliseconds: Int?
            var timeoutSeconds: Int?
            var queueCapacity: Int?
        }

        struct Usage: Decodable {
            var enabled: Bool?
            var flushIntervalSeconds: Int?
            var gaugeIntervalSeconds: Int?
        }

        /// `path` is a file, or "stdout".
        struct AccessLog: Decodable {
            var enabled: Bool?
            var path: String?
        }

        /// Endpoints (ServeConfigurationLoader+Listeners.swift).
        var listeners: [Listener]?
        var tls: TLS?

        /// Pull-through cache namespaces (see ServeConfigurationLoader+Proxies.swift).
        var proxies: [Proxy]?

        struct Storage: Decodable {
            var backend: String?
            var s3: S3?
            var cache: Cache?
            var keepWrites: Bool?
            /// Seconds a pull redirect URL stays valid; set to redirect blob GETs (S3 only).
            var redirectPullsSeconds: Int?
            /// `/readyz` reports storage full below this many free bytes (local disks).
            var minimumFreeBytes: Int64?

            struct S3: Decodable {
                var endpoint: String?
                var region: String?
                var bucket: String?
                var addressing: String?
                var accessKeyID: String?
                var secretAccessKey: String?
                var keyPrefix: String?
            }

            struct Cache: Decodable {
                var path: String?
                var maxBytes: Int64?
            }
        }
        /// HOST:PORT for Prometheus metrics, or "off".
        var metricsListen: String?

        struct GC: Decodable {
            var enabled: Bool?
            var intervalSeconds: Int?
            var graceSeconds: Int?
            var uploadExpirySeconds: Int?
        }

        struct Access: Decodable {
            var enabled: Bool?
            var autoCreateNamespaces: Bool?
            var tokenLifetimeSeconds: Int?
            var service: String?
        }

        struct Limits: Decodable {
            var maxManifestBytes: Int?
            var maxBlobBytes: Int64?
            var maxPageSize: Int?
            var requestsPerMinutePerKey: Int?
            var requestsPerMinutePerAddress: Int?
        }

        struct Log: Decodable {
            var level: String?
        }
    }

    var logLevel = "info"

    mutating func load(file: String?, environment: [String: String]) throws -> ServerConfiguration {
        self.environment = environment
        var configuration = ServerConfiguration()
        configuration.metricsListen = ("127.0.0.1", 5001)
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ConfigurationError(description: "cannot read configuration file \(file): \(error.localizedDescription)")
            }
            let parsed: File
            do { parsed = try YAMLDecoder().decode(File.self, from: text) } catch {
                throw ConfigurationError(description: "invalid configuration file \(file): \(error)")
            }
            try apply(parsed, to: &configuration)
        }
        try applyEnvironment(environment, to: &configuration)
        return configuration
    }

    private var environment: [String: String] = [:]

    private func applyStorage(_ storage: File.Storage, environment: [String: String], to configuration: inout ServerConfiguration) throws {
        switch storage.backend ?? "filesystem" {
        case "filesystem":
            configuration.storage.backend = .filesystem
        case "s3":
            guard let s3 = storage.s3, let endpointText = s3.endpoint, let endpoint = URL(string: endpointText), let bucket = s3.bucket else {
                throw ConfigurationError(description: "storage.s3 needs endpoint and bucket")
            }
            let addressing: S3Configuration.Addressing
            switch s3.addressing ?? "path" {
            case "path": addressing = .path
            case "virtual", "virtual-host", "virtualHost": addressing = .virtualHost
            default: throw ConfigurationError(description: "storage.s3.addressing must be path or virtual")
            }
            var credentials: S3Credentials?
            if let id = s3.accessKeyID, let secret = s3.secretAccessKey {
                credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: nil)
            }
            do {
                configuration.storage.backend = .s3(
                    try S3Configuration.resolve(
                        endpoint: endpoint, bucket: bucket, region: s3.region, addressing: addressing, credentials: credentials,
                        keyPrefix: s3.keyPrefix ?? "", environment: environment))
            } catch {
                throw ConfigurationError(description: "storage.s3: \(error)")
            }
        case let other:
            throw ConfigurationError(description: "storage.backend must be filesystem or s3, not \(other)")
        }
        if let cache = storage.cache {
            guard let path = cache.path, let maxBytes = cache.maxBytes, maxBytes > 0 else {
                throw ConfigurationError(description: "storage.cache needs path and a positive maxBytes")
            }
            configuration.storage.cache = (path, maxBytes)
        }
        if let keep = storage.keepWrites { configuration.storage.keepWrites = keep }
        if let bytes = storage.minimumFreeBytes {
            guard bytes >= 0 else { throw ConfigurationError(description: "storage.minimumFreeBytes must be 0 or more, not \(bytes)") }
            configuration.storage.minimumFreeBytes = bytes
        }
        if let seconds = storage.redirectPullsSeconds {
            guard (1...604_800).contains(seconds) else {
                throw ConfigurationError(description: "storage.redirectPullsSeconds must be between 1 and 604800 (7 days)")
            }
            guard case .s3 = configuration.storage.backend else {
                throw ConfigurationError(description: "storage.redirectPullsSeconds needs the s3 backend (a filesystem has no URLs)")
            }
            configuration.storage.redirectPullsSeconds = seconds
        }
    }

    private mutating func apply(_ file: File, to configuration: inout ServerConfiguration) throws {
        if file.listeners != nil && (file.listen != nil || file.host != nil || file.port != nil) {
            throw ConfigurationError(description: "use either listen (or host and port) or listeners, not both")
        }
        if let block = file.connections {
            configuration.connections = try connectionSettings(block, over: configuration.connections, field: "connections")
        }
        if let listeners = file.listeners { configuration.listeners = try parseListeners(listeners, connections: configuration.connections) }
        if let seconds = file.tls?.reloadIntervalSeconds {
            guard seconds > 0 else { throw ConfigurationError(description: "tls.reloadIntervalSeconds must be positive") }
            configuration.tlsReloadIntervalSeconds = seconds
        }
        if let listen = file.listen { try setListen(listen, &configuration) }
        if let host = file.host { configuration.host = host }
        if let port = file.port { configuration.port = port }
        if let data = file.dataDirectory { configuration.dataDirectory = data }
        if let value = file.limits?.maxManifestBytes { configuration.limits.maxManifestBytes = value }
        if let value = file.limits?.maxBlobBytes { configuration.limits.maxBlobBytes = value }
        if let value = file.limits?.maxPageSize { configuration.limits.maxPageSize = value }
        if let level = file.log?.level { logLevel = level }
        if let grace = file.shutdownGraceSeconds { configuration.shutdownGraceSeconds = grace }
        if let value = file.access?.enabled { configuration.access.enabled = value }
        if let value = file.access?.autoCreateNamespaces { configuration.access.autoCreateNamespaces = value }
        if let value = file.access?.tokenLifetimeSeconds { configuration.access.tokenLifetimeSeconds = value }
        if let value = file.access?.service { configuration.access.service = value }
        if let value = file.metricsListen { try setMetricsListen(value, &configuration) }
        if let storage = file.storage { try applyStorage(storage, environment: self.environment, to: &configuration) }
        if let proxies = file.proxies { configuration.proxies = try proxies.map(Self.proxyNamespace) }
        if let value = file.gc?.enabled { configuration.gc.enabled = value }
        if let value = file.gc?.intervalSeconds { configuration.gc.intervalSeconds = value }
        if let value = file.gc?.graceSeconds { configuration.gc.graceSeconds = value }
        if let value = file.gc?.uploadExpirySeconds { configuration.gc.uploadExpirySeconds = value }
        try applyMetering(file, to: &configuration)
    }

    private func applyMetering(_ file: File, to configuration: inout ServerConfiguration) throws {
        if let value = file.limits?.requestsPerMinutePerKey { configuration.requestRates.perKeyPerMinute = try nonNegative("limits.requestsPerMinutePerKey", value) }
        if let value = file.limits?.requestsPerMinutePerAddress {
            configuration.requestRates.perAddressPerMinute = try nonNegative("limits.requestsPerMinutePerAddress", value)
        }
        if let value = file.usage?.enabled { configuration.usage.enabled = value }
        if let value = file.usage?.flushIntervalSeconds { configuration.usage.flushIntervalSeconds = try positive("usage.flushIntervalSeconds", value) }
        if let value = file.usage?.gaugeIntervalSeconds { configuration.usage.gaugeIntervalSeconds = try positive("usage.gaugeIntervalSeconds", value) }
        if let value = file.accessLog?.enabled { configuration.accessLog.enabled = value }
        if let value = file.accessLog?.path { configuration.accessLog.path = value == "stdout" ? nil : value }
        if let hooks = file.webhooks {
            if let value = hooks.enabled { configuration.webhooks.enabled = value }
            if let value = hooks.maxAttempts { configuration.webhooks.maxAttempts = try positive("webhooks.maxAttempts", value) }
            if let value = hooks.initialBackoffMilliseconds {
                configuration.webhooks.initialBackoffMilliseconds = try nonNegative("webhooks.initialBackoffMilliseconds", value)
            }
            if let value = hooks.timeoutSeconds { configuration.webhooks.timeoutSeconds = try positive("webhooks.timeoutSeconds", value) }
            if let value = hooks.queueCapacity { configuration.webhooks.queueCapacity = try positive("webhooks.queueCapacity", value) }
        }
    }

    private func positive(_ key: String, _ value: Int) throws -> Int {
        guard value > 0 else { throw ConfigurationError(description: "\(key) must be positive, not \(value)") }
        return value
    }

    private func nonNegative(_ key: String, _ value: Int) throws -> Int {
        guard value >= 0 else { throw ConfigurationError(description: "\(key) must be 0 (off) or more, not \(value)") }
        return value
    }

    private mutating func applyEnvironment(_ environment: [String: String], to configuration: inout ServerConfiguration) throws {
        func integer(_ key: String) throws -> Int64? {
            guard let text = environment[key] else { return nil }
            guard let value = Int64(text) else { throw ConfigurationError(description: "\(key) must be an integer, not \(text)") }
            return value
        }
        if let listen = environment["KURA_LISTEN"] { try setListen(listen, &configuration) }
        try applyConnectionEnvironment(environment, to: &configuration)
        if !configuration.listeners.isEmpty, environment["KURA_HOST"] != nil || environment["KURA_PORT"] != nil {
            throw ConfigurationError(
                description: "KURA_HOST and KURA_PORT set the single listener, but the file lists listeners; use KURA_LISTEN to replace them")
        }
        if let host = environment["KURA_HOST"] { configuration.host = host }
        if let port = try integer("KURA_PORT") { configuration.port = Int(port) }
        if let data = environment["KURA_DATA_DIR"] { configuration.dataDirectory = data }
        if let value = try integer("KURA_MAX_MANIFEST_BYTES") { configuration.limits.maxManifestBytes = Int(value) }
        if let value = try integer("KURA_MAX_BLOB_BYTES") { configuration.limits.maxBlobBytes = value }
        if let level = environment["KURA_LOG_LEVEL"] { logLevel = level }
        if let value = environment["KURA_METRICS_LISTEN"] { try setMetricsListen(value, &configuration) }
        if let value = environment["KURA_GC_ENABLED"] { configuration.gc.enabled = try boolean("KURA_GC_ENABLED", value) }
        if let value = try integer("KURA_GC_INTERVAL_SECONDS") { configuration.gc.intervalSeconds = Int(value) }
        if let value = environment["KURA_ACCESS_ENABLED"] { configuration.access.enabled = try boolean("KURA_ACCESS_ENABLED", value) }
        if let value = environment["KURA_USAGE_ENABLED"] { configuration.usage.enabled = try boolean("KURA_USAGE_ENABLED", value) }
        if let value = try integer("KURA_REQUESTS_PER_MINUTE_PER_KEY") {
            configuration.requestRates.perKeyPerMinute = try nonNegative("KURA_REQUESTS_PER_MINUTE_PER_KEY", Int(value))
        }
        if let value = try integer("KURA_REQUESTS_PER_MINUTE_PER_ADDRESS") {
            configuration.requestRates.perAddressPerMinute = try nonNegative("KURA_REQUESTS_PER_MINUTE_PER_ADDRESS", Int(value))
        }
        if let value = environment["KURA_ACCESS_LOG"] {
            // "off", "stdout", or a file path.
            configuration.accessLog.enabled = value != "off"
            configuration.accessLog.path = value == "stdout" || value == "off" ? nil : value
        }
        if let value = environment["KURA_AUTO_CREATE_NAMESPACES"] {
            configuration.access.autoCreateNamespaces = try boolean("KURA_AUTO_CREATE_NAMESPACES", value)
        }
    }

    func boolean(_ key: String, _ value: String) throws -> Bool {
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(description: "\(key) must be true or false, not \(value)")
        }
    }

    func setMetricsListen(_ value: String, _ configuration: inout ServerConfiguration) throws {
        if value == "off" {
            configuration.metricsListen = nil
            return
        }
        configuration.metricsListen = try hostAndPort(value, field: "metrics listen")
    }

    /// Sets the single listener of the shorthand; it replaces any `listeners` list (flags
    /// and environment override the file).
    func setListen(_ listen: String, _ configuration: inout ServerConfiguration) throws {
        let (host, port) = try hostAndPort(listen, field: "listen")
        configuration.host = host
        configuration.port = port
        configuration.listeners = []
    }

    /// `HOST:PORT`, `[IPv6]:PORT`.
    func hostAndPort(_ text: String, field: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError(description: "\(field) must be HOST:PORT, not \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ConfigurationError(description: "\(field) needs a host, not \(text)") }
        return (host, port)
    }
}
