import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import KuraHTTP
import KuraServe
import Logging
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the registry.",
        discussion: """
            Every setting is a key of one configuration tree, read from (later ones win) its \
            default, a YAML file (--config or KURA_CONFIG), the key's KURA_* environment \
            variable, and the flags below. Several endpoints (public TLS, private allow-listed) \
            come from the file's `listeners:` list. On the first start with access control (the \
            default) the root account is created; its access key is printed once on a terminal and is always in DATA/root-credentials (mode 0600). SIGTERM or \
            SIGINT stops the server gracefully: requests in flight finish first. SIGHUP reloads \
            TLS certificates (they are also reloaded when their files change). Full reference: \
            docs/configuration.md; every key with its default: docs/kura.example.yaml.

            Keys (key / environment variable (default): meaning):

            """ + ServerConfiguration.keysHelp
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
        var flags: [String: String] = [:]
        flags["listen"] = listen
        flags["dataDirectory"] = data
        flags["metricsListen"] = metricsListen
        flags["log.level"] = logLevel
        var configuration = try ServerConfiguration(reading: .serve(file: config ?? environment["KURA_CONFIG"], environment: environment, flags: flags))
        configuration.tlsReloadOnSIGHUP = true
        let level = configuration.log.level
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
        services.close()
    }
}
