import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KuraAccess
import KuraCore
import KuraDashboard
import KuraHTTP
import KuraServe
import KuraStorage
import KuraTestSupport
import Logging
import NIOCore
import Synchronization

/// A wall clock the test moves: the console's sessions expire on it without any sleep.
final class TestWallClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_900_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(by seconds: TimeInterval) { time.withLock { $0 += seconds } }
}

/// A Kura server with access control and the console, live on 127.0.0.1 (Chromium needs a
/// socket), its sessions on a ``TestWallClock``.
struct ConsoleServer: Sendable {
    var client: any TestClientProtocol
    var port: Int
    var rootKey: String
    var rootSecret: String
    var services: KuraServer.Services
    var clock: TestWallClock
    var sessions: ConsoleSessions

    var baseURL: String { "http://127.0.0.1:\(port)" }

    static let idleTimeout: TimeInterval = 30 * 60
}

func withConsoleServer<T: Sendable>(
    anonymousPull: Bool = true, loginFailuresPerKey: Int = 10, trustedProxies: [NetworkRange] = [],
    configure: (inout ServerConfiguration) -> Void = { _ in }, serverClock: (any Clock<Duration>)? = nil,
    dataDirectory: String? = nil, root knownRoot: (key: String, secret: String)? = nil,
    _ body: @Sendable (ConsoleServer) async throws -> T
) async throws -> T {
    // A folder of its own unless the caller keeps one (a restart, or a second node's).
    let directory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("kura-console-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
    var logger = Logger(label: "kura-console-test")
    logger.logLevel = .critical
    var configuration = ServerConfiguration(
        host: "127.0.0.1", port: 0, dataDirectory: directory,
        access: .init(loginFailuresPerKey: loginFailuresPerKey), gc: .init(enabled: false))
    configuration.listeners = [
        ListenerConfiguration(name: "console", host: "127.0.0.1", port: 0, anonymousPull: anonymousPull, trustedProxies: trustedProxies)
    ]
    configure(&configuration)
    var services = try await KuraServer.open(configuration, logger: logger)
    defer { services.close() }
    if let serverClock { services.clock = serverClock }
    // Root's secret is printed once, by the first start over a catalog; later ones are told it.
    guard let access = services.access, let root = services.rootCredentials.map({ (key: $0.accessKeyID, secret: $0.secretKey) }) ?? knownRoot
    else { throw TestFailure("no access control, or no root credentials") }
    let clock = TestWallClock()
    let sessions = ConsoleSessions(
        store: services.registry.catalog.consoleSessions, idleTimeout: ConsoleServer.idleTimeout, absoluteTimeout: 8 * 3600, now: { clock.now })
    services.dashboard = try Dashboard(admin: AccessAdmin(access: access, registry: services.registry), sessions: sessions, meter: services.usage)
    let app = try KuraServer.makeApplication(configuration, services: services, logger: logger)
    return try await app.test(.live) { [services] client in
        guard let port = client.port else { throw TestFailure("no port") }
        return try await body(
            ConsoleServer(
                client: client, port: port, rootKey: root.key, rootSecret: root.secret, services: services, clock: clock,
                sessions: sessions))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ConsoleServer {
    func basic(_ key: String, _ secret: String) -> String { "Basic " + Data("\(key):\(secret)".utf8).base64EncodedString() }

    var rootAuthorization: String { basic(rootKey, rootSecret) }

    /// An admin API call as root; throws unless it answers 2xx.
    @discardableResult
    func admin(_ method: HTTPRequest.Method, _ path: String, _ json: String? = nil) async throws -> [String: Any] {
        let response = try await client.execute(
            uri: "/api/v1/\(path)", method: method, headers: [.authorization: rootAuthorization, .contentType: "application/json"],
            body: json.map { ByteBuffer(string: $0) })
        guard (200..<300).contains(response.status.code) else {
            throw TestFailure("\(method) \(path): \(response.status) \(String(buffer: response.body))")
        }
        return (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]) ?? [:]
    }

    /// Creates an account with a key and a grant; returns (key id, secret).
    func account(_ name: String, role: String, on namespace: String) async throws -> (String, String) {
        try await admin(.post, "accounts", "{\"name\":\"\(name)\"}")
        let key = try await admin(.post, "accounts/\(name)/keys")
        try await admin(.put, "accounts/\(name)/grants/\(namespace)", "{\"role\":\"\(role)\"}")
        return (key["accessKeyID"] as? String ?? "", key["secretKey"] as? String ?? "")
    }

    func pushBlob(_ bytes: [UInt8], to repository: String) async throws -> Digest {
        let digest = ContentHasher.digest(.sha256, of: ByteBuffer(bytes: bytes))
        let response = try await client.execute(
            uri: "/v2/\(repository)/blobs/uploads/?digest=\(digest)", method: .post,
            headers: [.authorization: rootAuthorization, .contentType: "application/octet-stream"], body: ByteBuffer(bytes: bytes))
        guard response.status == .created else { throw TestFailure("blob push: \(response.status)") }
        return digest
    }

    @discardableResult
    func pushManifest(_ json: String, mediaType: String, to repository: String, reference: String) async throws -> Digest {
        let response = try await client.execute(
            uri: "/v2/\(repository)/manifests/\(reference)", method: .put,
            headers: [.authorization: rootAuthorization, .contentType: mediaType], body: ByteBuffer(string: json))
        guard response.status == .created else { throw TestFailure("manifest push: \(response.status) \(String(buffer: response.body))") }
        return ContentHasher.digest(.sha256, of: ByteBuffer(string: json))
    }

    /// An image with a config (labels, env, history) and two layers, tagged with each of `tags`.
    @discardableResult
    func pushImage(
        _ repository: String, tags: [String], labels: [String: String] = [:], annotations: [String: String] = [:], seed: UInt64 = 1
    ) async throws -> Digest {
        let labelJSON = String(decoding: try JSONSerialization.data(withJSONObject: labels, options: [.sortedKeys]), as: UTF8.self)
        let config = Array(
            """
            {"architecture":"amd64","os":"linux","created":"2026-11-30T10:00:00Z",\
            "config":{"Entrypoint":["/bin/app"],"Cmd":["--serve"],"Env":["PATH=/usr/bin","SEED=\(seed)"],"Labels":\(labelJSON)},\
            "history":[{"created_by":"ADD rootfs /"},{"created_by":"COPY app /bin/app"}],\
            "rootfs":{"type":"layers","diff_ids":[]}}
            """.utf8)
        let layers = [TestData.bytes(3000, seed: seed), TestData.bytes(5000, seed: seed + 100)]
        let configDigest = try await pushBlob(config, to: repository)
        var layerDescriptors: [String] = []
        for layer in layers {
            let digest = try await pushBlob(layer, to: repository)
            layerDescriptors.append("{\"mediaType\":\"\(MediaType.ociLayerGzip)\",\"digest\":\"\(digest)\",\"size\":\(layer.count)}")
        }
        let annotationJSON = String(decoding: try JSONSerialization.data(withJSONObject: annotations, options: [.sortedKeys]), as: UTF8.self)
        let manifest = """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)",\
            "config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(configDigest)","size":\(config.count)},\
            "layers":[\(layerDescriptors.joined(separator: ","))],"annotations":\(annotationJSON)}
            """
        var digest: Digest?
        for tag in tags { digest = try await pushManifest(manifest, mediaType: MediaType.ociManifest, to: repository, reference: tag) }
        return digest ?? ContentHasher.digest(.sha256, of: ByteBuffer(string: manifest))
    }

    /// The status of a GET of a manifest as root (to see what a deletion left).
    func manifestStatus(_ repository: String, _ reference: String) async throws -> HTTPResponse.Status {
        try await client.execute(
            uri: "/v2/\(repository)/manifests/\(reference)", method: .get,
            headers: [.authorization: rootAuthorization, .accept: MediaType.ociManifest], body: nil
        ).status
    }
}
