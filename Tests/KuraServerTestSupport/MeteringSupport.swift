import Foundation
public import HTTPTypes
import Hummingbird
public import HummingbirdTesting
import KuraHTTP
public import KuraServe
import Logging
import NIOCore
public import Prometheus

/// Runs a real server with access control on, a configuration `configure` adjusts, and
/// (when `metricsRegistry` is given) the metrics listener; `body` gets the client, the
/// services and root's key.
public func withMeteredServer<T: Sendable>(
    dataDirectory: String, mode: TestingSetup = .live, metricsRegistry: PrometheusCollectorRegistry? = nil,
    configure: (inout ServerConfiguration) -> Void = { _ in }, clock: (any Clock<Duration>)? = nil,
    _ body: @Sendable (any TestClientProtocol, KuraServer.Services, TestKey) async throws -> T
) async throws -> T {
    var logger = Logger(label: "kura-test")
    logger.logLevel = .critical
    var configuration = ServerConfiguration(
        host: "127.0.0.1", port: 0, dataDirectory: dataDirectory, access: .init(enabled: true), gc: .init(enabled: false))
    configuration.connections.requestHeadTimeout = .seconds(600)  // see withLiveServer
    configure(&configuration)
    var services = try await KuraServer.open(configuration, logger: logger)
    defer { services.close() }
    if let clock { services.clock = clock }
    guard let root = services.rootCredentials else { throw TestFailure("no root credentials on first start") }
    let app = try KuraServer.makeApplication(configuration, services: services, logger: logger, metricsRegistry: metricsRegistry)
    return try await app.test(mode) { [services] client in
        try await body(client, services, TestKey(id: root.accessKeyID, secret: root.secretKey))
    }
}

extension TestClientProtocol {
    /// A `/v2/` request as `key` (Basic).
    public func v2(_ method: HTTPRequest.Method, _ path: String, as key: TestKey?, headers: HTTPFields = [:], body: [UInt8]? = nil) async throws
        -> TestResponse
    {
        var all = key?.basic ?? [:]
        all.append(contentsOf: headers)
        if let body { all[.contentLength] = String(body.count) }
        return try await execute(uri: "/v2/\(path)", method: method, headers: all, body: body.map { ByteBuffer(bytes: $0) })
    }

    /// Creates a namespace as root.
    public func makeNamespace(_ name: String, root: TestKey) async throws {
        let response = try await admin(.post, "namespaces", as: root, json: "{\"name\":\"\(name)\"}")
        guard response.status == .created else { throw TestFailure("namespace \(name): \(response.status)") }
    }
}

/// The part after `/v2/` of a `Location` header, absolute (`http://host/v2/…`) or not.
public func v2Path(ofLocation location: String) -> String {
    guard let range = location.range(of: "/v2/") else { return location }
    return String(location[range.upperBound...])
}
