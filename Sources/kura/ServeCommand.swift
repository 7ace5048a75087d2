import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import KuraHTTP
import Logging
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the registry.",
        discussion: """
            Defaults: 127.0.0.1:5000, a SQLite catalog and blob storage in ./kura-data. A YAML \
            file (--config or KURA_CONFIG) and KURA_* variables (KURA_LISTEN, KURA_HOST, \
            KURA_PORT, KURA_DATA_DIR, KURA_MAX_MANIFEST_BYTES, KURA_MAX_BLOB_BYTES, \
            KURA_LOG_LEVEL, KURA_ACCESS_ENABLED, KURA_AUTO_CREATE_NAMESPACES) override them; flags override both. \
            Several endpoints (public TLS, private allow-listed) come from the file's `listeners:` list. \
            On the first start with access control (the default) the root account is created; its access key is printed once on a terminal, and is always in DATA/root-credentials (mode 0600; without a terminal only there, and the log names the file). SIGTERM or SIGINT stops the \
            server gracefully: requests in flight finish first. SIGHUP reloads TLS certificates (they are also \
            reloaded when their files change).
            """
    )

    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "Listen address, HOST:PORT (one listener serving everything; replaces `listeners:`).") var listen: String?
    @Option(help: "Data folder.") var data: String?
    @Option(help: "Prometheus metrics listener, HOST:PORT or off (default 127.0.0.1:5001).") var metricsListen: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Flag(help: "Serve TLS on every listener without a certificate, with a self-signed one kept in the data folder (created once; its SHA-256 fingerprint is printed).")
    var tlsSelfSigned = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var loader = ServeConfigurationLoader()
        var configuration = try loader.load(file: config ?? environment["KURA_CONFIG"], environment: environment)
        if let listen { try loader.setListen(listen, &configuration) }
        if let data { configuration.dataDirectory = data }
        if let metricsListen { try loader.setMetricsListen(metricsListen, &configuration) }
        configuration.tlsReloadOnSIGHUP = true
        let levelName = logLevel ?? loader.logLevel
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ValidationError("unknown log level \(levelName)")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "kura")
        logger.logLevel = level
        OpenFileLimit.raise(logger: logger)
        if tlsSelfSigned { try SelfSignedSetup.apply(to: &configuration) }
        let settings = configuration
        let serverLogger = logger
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(MetricsEndpoint.factory(registry: metrics))
        let services = try await KuraServer.open(settings, logger: serverLogger)
        if let root = services.rootCredentials, isatty(STDOUT_FILENO) == 0 {
            // Not a terminal (a file, a pipe, a journal): the secret stays in the 0600 file.
            // A warning, so it shows at every usual log level.
            serverLogger.warning(
                "created the root account; stdout is not a terminal, so its access key is only in the credentials file (mode 0600)",
                metadata: ["file": "\(root.file)", "accessKeyID": "\(root.accessKeyID)"])
        } else if let root = services.rootCredentials {
            let first = settings.effectiveListeners[0]
            // Printed once on the terminal (unbuffered), never through the logger.
            FileHandle.standardOutput.write(Data(
                """

                Kura created the root account. Its access key (shown only now; a copy is in \(root.file), mode 0600):

                    access key id: \(root.accessKeyID)
                    secret key:    \(root.secretKey)

                    docker login \(first.host):\(first.port) -u \(root.accessKeyID)

                """.utf8))
        }
        if !settings.access.enabled {
            serverLogger.warning("access control is OFF: anyone who can reach this address may push, pull and delete")
        }
        let app = try KuraServer.makeApplication(settings, services: services, logger: serverLogger, metricsRegistry: metrics) { listener, channel in
            serverLogger.notice(
                "kura is serving",
                metadata: [
                    "listener": "\(listener.name)",
                    "address": "\(channel.localAddress?.description ?? "?")",
                    "scheme": "\(listener.scheme)",
                    "apis": "\(listener.apis.map(\.rawValue).sorted().joined(separator: ","))",
                    "data": "\(settings.dataDirectory)",
                ])
        }
        try await app.runService()
    }
}
