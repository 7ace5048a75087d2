import AsyncHTTPClient
import Foundation
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Three `kura serve` processes sharing nothing but one PostgreSQL database (a fresh one on
/// the tests' server) and one S3 key prefix (on the tests' SeaweedFS), behind haproxy (see
/// ``HAProxy``): what `scripts/cluster` starts, on free ports of 127.0.0.1.
final class LocalCluster: Sendable {
    let nodes: [ServeProcessTests.Server]
    let balancer: HAProxy
    let root: TestKey
    /// The nodes' shared configuration file (catalog and storage).
    let configuration: String

    var url: String { "http://127.0.0.1:\(balancer.port)" }

    func nodeURL(_ index: Int) -> String { "http://127.0.0.1:\(nodes[index].port)" }

    /// A `Location` header's URL: Kura answers absolute ones (built from the request's
    /// Host, so through the balancer they point at the balancer).
    func at(_ location: String) -> String { location.hasPrefix("http") ? location : url + location }

    private init(nodes: [ServeProcessTests.Server], balancer: HAProxy, root: TestKey, configuration: String) {
        self.nodes = nodes
        self.balancer = balancer
        self.root = root
        self.configuration = configuration
    }

    /// Starts a cluster of `count` nodes under `scratch`, runs `body`, and stops everything.
    static func with<T: Sendable>(scratch: String, count: Int = 3, _ body: @Sendable (LocalCluster) async throws -> T) async throws -> T {
        let (databaseURL, database) = try await PostgreSQLServer.makeDatabase()
        var started: [ServeProcessTests.Server] = []
        var balancer: HAProxy?
        do {
            let configuration = try await writeConfiguration(scratch: scratch, databaseURL: databaseURL)
            // The first node migrates the database and makes root; the others then start together.
            let first = try ServeProcessTests.Server(data: "\(scratch)/node1", arguments: ["--config", configuration])
            started.append(first)
            try await first.waitUntilServing()
            for index in 2...count {
                started.append(try ServeProcessTests.Server(data: "\(scratch)/node\(index)", arguments: ["--config", configuration]))
            }
            for node in started.dropFirst() { try await node.waitUntilServing() }
            let root = try rootKey(data: "\(scratch)/node1")
            let proxy = try HAProxy(nodes: started.enumerated().map { ("node\($0.offset + 1)", $0.element.port) }, directory: scratch)
            balancer = proxy
            let cluster = LocalCluster(nodes: started, balancer: proxy, root: root, configuration: configuration)
            try await cluster.waitUntilEveryNodeAnswers()
            let result = try await body(cluster)
            await stop(started, proxy, database)
            return result
        } catch {
            await stop(started, balancer, database)
            throw error
        }
    }

    private static func stop(_ nodes: [ServeProcessTests.Server], _ balancer: HAProxy?, _ database: String) async {
        await balancer?.stop()
        for node in nodes { node.process.signal(SIGKILL) }
        for node in nodes { await node.process.wait() }
        await PostgreSQLServer.dropDatabase(database)
    }

    /// The YAML every node reads: PostgreSQL catalog, S3 storage under a fresh prefix.
    private static func writeConfiguration(scratch: String, databaseURL: String) async throws -> String {
        let s3 = try await SeaweedFS.shared
        let text = """
            catalog:
              backend: postgres
              url: \(databaseURL)
              poolSize: 8
            storage:
              backend: s3
              s3:
                endpoint: \(s3.endpoint.absoluteString)
                bucket: \(s3.bucket)
                region: \(SeaweedFS.region)
                accessKeyID: \(s3.credentials.accessKeyID)
                secretAccessKey: \(s3.credentials.secretAccessKey)
                keyPrefix: cluster-\(UUID().uuidString.lowercased())/

            """
        let path = "\(scratch)/kura.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Root's key, which the first node wrote to its data folder (stdout is not a terminal).
    private static func rootKey(data: String) throws -> TestKey {
        let file = try String(contentsOfFile: "\(data)/root-credentials", encoding: .utf8)
        func value(_ key: String) throws -> String {
            guard let line = file.split(separator: "\n").first(where: { $0.hasPrefix(key + "=") }) else {
                throw TestFailure("no \(key) in \(data)/root-credentials")
            }
            return String(line.dropFirst(key.count + 1))
        }
        return TestKey(id: try value("access_key_id"), secret: try value("secret_key"))
    }

    /// Polls `/readyz` through the balancer until every node has answered (health checks
    /// passed), at most 30 s.
    func waitUntilEveryNodeAnswers() async throws {
        var seen: Set<String> = []
        do {
            try await Poll.until("every node answering through haproxy", timeout: .seconds(30), interval: .milliseconds(100)) { () async -> Bool? in
                if let reply = try? await ClusterHTTP.send(.GET, url + "/readyz"), reply.status == 200, let node = reply.node { seen.insert(node) }
                return seen.count == nodes.count ? true : nil
            }
        } catch {
            throw TestFailure("haproxy reached only \(seen.sorted()) within 30 s\n\(balancer.log)")
        }
    }

    /// SIGKILL, as a crash or a pulled plug would.
    func crash(node index: Int) async {
        nodes[index].process.signal(SIGKILL)
        await nodes[index].process.wait()
    }

    /// Creates namespace `team` (through node 1).
    func makeNamespace(_ name: String = "team") async throws {
        let reply = try await ClusterHTTP.send(.POST, nodeURL(0) + "/api/v1/namespaces", key: root, json: "{\"name\":\"\(name)\"}")
        guard reply.status == 201 else { throw TestFailure("namespace \(name): \(reply.status) \(reply.text)") }
    }
}

/// Plain HTTP requests to the nodes and the balancer (AsyncHTTPClient), with the node that
/// answered (haproxy's `X-Kura-Node`).
enum ClusterHTTP {
    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var node: String? { headers.first(name: "X-Kura-Node") }
        var text: String { String(decoding: body, as: UTF8.self) }
        var location: String? { headers.first(name: "Location") }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    static func send(
        _ method: HTTPMethod, _ url: String, key: TestKey? = nil, headers: [(String, String)] = [], body: [UInt8]? = nil, json: String? = nil,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Basic " + Data("\(key.id):\(key.secret)".utf8).base64EncodedString()) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let collected = try await response.body.collect(upTo: 256 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView))
    }
}
