public import Hummingbird
public import Logging
public import Prometheus

/// Prometheus text exposition of every swift-metrics metric (requests, jobs, cache) on a
/// separate listener, meant for a private address.
public enum MetricsEndpoint {
    /// A factory that turns swift-metrics labels (`http.server.request.duration`) into
    /// Prometheus names (`http_server_request_duration`).
    public static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitize(name), labels.map { (sanitize($0.0), $0.1) })
        }
        return factory
    }

    static func sanitize(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" ? $0 : "_" })
    }

    /// The application serving `GET /metrics` on `host:port`.
    public static func application(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger)
        -> Application<RouterResponder<BasicRequestContext>>
    {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "Kura metrics"),
            logger: logger)
    }
}
