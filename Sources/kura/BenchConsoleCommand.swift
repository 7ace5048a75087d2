import ArgumentParser
import AsyncHTTPClient
import Foundation
import KuraCore
import KuraStorage
import NIOCore
import NIOHTTP1

struct BenchConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Time the console's repository page (10,000 tags) and namespace page (1,000 repositories).",
        discussion: """
            Against a running `kura serve` with access control, as root (--user/--password): creates a namespace, \
            pushes one image tagged --tags times into NAMESPACE/big and --repositories small repositories \
            (not timed), signs in through the console's form, then GETs each page (the repository page in \
            name order and newest first) --requests times one after another. /v2/NAMESPACE/big/tags/list?n=50 \
            (the same first page of tags as JSON) runs alongside as the reference.
            """
    )

    @OptionGroup var options: HTTPBenchOptions
    @Option(help: "Tags in the big repository.") var tags: Int = 10_000
    @Option(help: "Repositories in the namespace.") var repositories: Int = 1_000
    @Option(help: "GETs of each page.") var requests: Int = 300
    @Option(help: "Namespace to create.") var namespace: String = "bench\(UUID().uuidString.prefix(6).lowercased())"

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        // Sign-in answers 303 with the session cookie: it must not be followed.
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do { try await measure(http) } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    private var authorization: String? {
        guard let user = options.user, let password = options.password else { return nil }
        return "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    private func measure(_ http: HTTPClient) async throws {
        let progress = ProgressLine(json: options.json)
        try await send(http, "/api/v1/namespaces", .POST, body: Array("{\"name\":\"\(namespace)\"}".utf8), expect: .created)
        let manifest = try await pushImage(http, into: "\(namespace)/big", seed: 0)
        try await parallel(tags, progress: progress, "tags") { index in
            try await send(
                http, "/v2/\(namespace)/big/manifests/" + String(format: "t%05d", index), .PUT, body: manifest, contentType: MediaType.ociManifest,
                expect: .created)
        }
        try await parallel(repositories, progress: progress, "repositories") { index in
            _ = try await pushImage(http, into: String(format: "\(namespace)/r%04d", index), seed: index + 1)
        }
        let cookie = try await signIn(http)
        var results: [String: [String: Double]] = [:]
        var lines = ["console pages, \(requests) sequential GETs each, from \(options.url)"]
        for (name, path, session) in [
            ("repository page (\(tags) tags)", "/repositories/\(namespace)/big", true),
            ("repository page, newest first (\(tags) tags)", "/repositories/\(namespace)/big?sort=newest", true),
            ("namespace page (\(repositories) repositories)", "/namespaces/\(namespace)", true),
            ("reference: /v2 tags/list?n=50", "/v2/\(namespace)/big/tags/list?n=50", false),
        ] {
            var latencies = LatencyStats()
            for index in 0..<requests {
                let started = ContinuousClock.now
                try await send(http, path, .GET, cookie: session ? cookie : nil, expect: .ok)
                latencies.add(ContinuousClock.now - started)
                if index % 50 == 0 { progress.update("\(name) \(index)/\(requests)") }
            }
            results[name] = latencies.summary
            lines.append("  \(name): p50 \(format(latencies.percentile(50), 2)) ms, p99 \(format(latencies.percentile(99), 2)) ms")
        }
        progress.finish()
        try reportBenchmark(
            ["benchmark": "console", "url": options.url, "requests": requests, "tags": tags, "repositories": repositories, "latencyMilliseconds": results],
            json: options.json, lines: lines)
    }

    /// A config and a 4 KiB layer of their own (by seed), each pushed in one POST, then the
    /// manifest; returns its bytes.
    private func pushImage(_ http: HTTPClient, into repository: String, seed: Int) async throws -> [UInt8] {
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"SEED=\(seed)\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".utf8)
        var generator = SplitMix(seed: UInt64(seed))
        let layer = (0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var descriptors: [String] = []
        for (blob, type) in [(config, MediaType.ociConfig), (layer, MediaType.ociLayerGzip)] {
            let digest = ContentHasher.digest(.sha256, of: blob)
            try await send(http, "/v2/\(repository)/blobs/uploads/?digest=\(digest)", .POST, body: blob, contentType: "application/octet-stream", expect: .created)
            descriptors.append("{\"mediaType\":\"\(type)\",\"digest\":\"\(digest)\",\"size\":\(blob.count)}")
        }
        let manifest = Array(
            "{\"schemaVersion\":2,\"mediaType\":\"\(MediaType.ociManifest)\",\"config\":\(descriptors[0]),\"layers\":[\(descriptors[1])]}".utf8)
        try await send(http, "/v2/\(repository)/manifests/latest", .PUT, body: manifest, contentType: MediaType.ociManifest, expect: .created)
        return manifest
    }

    /// Runs `count` operations, 16 at a time, showing progress.
    private func parallel(_ count: Int, progress: ProgressLine, _ what: String, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                if index >= 16 { try await group.next() }
                if index % 500 == 0 { progress.update("\(what) \(index)/\(count)") }
                group.addTask { try await operation(index) }
            }
            try await group.waitForAll()
        }
    }

    /// Signs in through the console's form (its CSRF cookie and field) and returns the session cookie.
    private func signIn(_ http: HTTPClient) async throws -> String {
        let form = try await http.execute(HTTPClientRequest(url: options.url + "/sign-in"), timeout: .seconds(30))
        let html = String(buffer: try await form.body.collect(upTo: 1 << 20))
        guard let signInCookie = form.headers["Set-Cookie"].first(where: { $0.hasPrefix("kura_sign_in=") })?.split(separator: ";").first,
            let field = html.range(of: "name=\"csrf\" value=\"")
        else { throw BenchFailure(description: "no sign-in form at \(options.url)/sign-in") }
        let token = html[field.upperBound...].prefix { $0 != "\"" }
        var post = HTTPClientRequest(url: options.url + "/sign-in")
        post.method = .POST
        post.headers.add(name: "Cookie", value: String(signInCookie))
        post.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let secret = (options.password ?? "").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        post.body = .bytes(ByteBuffer(string: "csrf=\(token)&next=%2F&access_key_id=\(options.user ?? "")&secret_key=\(secret)"))
        let response = try await http.execute(post, timeout: .seconds(30))
        guard let session = response.headers["Set-Cookie"].first(where: { $0.hasPrefix("kura_session=") })?.split(separator: ";").first else {
            throw BenchFailure(description: "sign-in refused: \(response.status)")
        }
        return String(session)
    }

    private func send(
        _ http: HTTPClient, _ path: String, _ method: HTTPMethod, body: [UInt8]? = nil, contentType: String = "application/json",
        cookie: String? = nil, expect status: HTTPResponseStatus
    ) async throws {
        var request = HTTPClientRequest(url: options.url + path)
        request.method = method
        if let cookie { request.headers.add(name: "Cookie", value: cookie) } else if let authorization {
            request.headers.add(name: "Authorization", value: authorization)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 16 << 20)
        guard response.status == status else { throw BenchFailure(description: "\(method) \(path): \(response.status)") }
    }
}

private struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}

/// Deterministic bytes for each repository's layer.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
