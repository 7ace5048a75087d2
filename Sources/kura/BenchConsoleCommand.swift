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
            (not timed), signs in through the console's form, then GETs each page --requests times one after \
            another. /v2/NAMESPACE/big/tags/list?n=50 (the same first page of tags as JSON) runs alongside as \
            the reference.
            """
    )

    @OptionGroup var options: HTTPBenchOptions
    @Option(help: "Tags in the big repository.") var tags: Int = 10_000
    @Option(help: "Repositories in the namespace.") var repositories: Int = 1_000
    @Option(help: "GETs of each page.") var requests: Int = 300
    @Option(help: "Namespace to create.") var namespace: String = "bench\(UUID().uuidString.prefix(6).lowercased())"

    func run() async throws {
        let client = try BenchClient(url: options.url, connections: 16, user: options.user, password: options.password, tls: options.tls)
        do { try await measure(client) } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func measure(_ client: BenchClient) async throws {
        let progress = ProgressLine(json: options.json)
        try await send(client, "/api/v1/namespaces", .POST, body: "{\"name\":\"\(namespace)\"}", expect: .created)
        let manifest = try await pushImage(client, into: "\(namespace)/big", seed: 0)
        try await parallel(tags, progress: progress, "tags") { index in
            try await client.putManifest(
                repository: "\(namespace)/big", reference: String(format: "t%05d", index), mediaType: MediaType.ociManifest, bytes: manifest)
        }
        try await parallel(repositories, progress: progress, "repositories") { index in
            _ = try await pushImage(client, into: String(format: "\(namespace)/r%04d", index), seed: index + 1)
        }
        let cookie = try await signIn(client)
        var results: [String: [String: Double]] = [:]
        var lines = ["console pages, \(requests) sequential GETs each, from \(options.url)"]
        for (name, path, session) in [
            ("repository page (\(tags) tags)", "/repositories/\(namespace)/big", true),
            ("namespace page (\(repositories) repositories)", "/namespaces/\(namespace)", true),
            ("reference: /v2 tags/list?n=50", "/v2/\(namespace)/big/tags/list?n=50", false),
        ] {
            let latencies = try await runConcurrently(requests: requests, connections: 1, progress: progress) {
                try await send(client, path, .GET, cookie: session ? cookie : nil, expect: .ok)
            }
            results[name] = latencies.summary
            lines.append("  \(name): p50 \(format(latencies.percentile(50), 2)) ms, p99 \(format(latencies.percentile(99), 2)) ms")
        }
        progress.finish()
        try await client.shutdown()
        try reportBenchmark(
            ["benchmark": "console", "url": options.url, "requests": requests, "tags": tags, "repositories": repositories, "latencyMilliseconds": results],
            json: options.json, lines: lines)
    }

    /// A config and a 4 KiB layer of their own (by seed), then the manifest; returns its bytes.
    private func pushImage(_ client: BenchClient, into repository: String, seed: Int) async throws -> [UInt8] {
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"SEED=\(seed)\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".utf8)
        let layer = Array(RepeatedBufferSequence.randomBuffer(size: 4096).readableBytesView)
        var descriptors: [String] = []
        for (blob, type) in [(config, MediaType.ociConfig), (layer, MediaType.ociLayerGzip)] {
            let digest = ContentHasher.digest(.sha256, of: blob)
            try await client.pushBlob(repository: repository, digest: digest, size: Int64(blob.count), chunk: nil) { _, _ in
                let buffer = ByteBuffer(bytes: blob)
                return BenchBlobStream(head: buffer, body: buffer, range: 0..<Int64(blob.count))
            }
            descriptors.append("{\"mediaType\":\"\(type)\",\"digest\":\"\(digest)\",\"size\":\(blob.count)}")
        }
        let manifest = Array(
            "{\"schemaVersion\":2,\"mediaType\":\"\(MediaType.ociManifest)\",\"config\":\(descriptors[0]),\"layers\":[\(descriptors[1])]}".utf8)
        try await client.putManifest(repository: repository, reference: "latest", mediaType: MediaType.ociManifest, bytes: manifest)
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
    private func signIn(_ client: BenchClient) async throws -> String {
        let form = try await client.http.execute(HTTPClientRequest(url: options.url + "/sign-in"), timeout: .seconds(30))
        let html = String(buffer: try await form.body.collect(upTo: 1 << 20))
        guard let signInCookie = form.headers["Set-Cookie"].first(where: { $0.hasPrefix("kura_sign_in=") })?.split(separator: ";").first,
            let field = html.range(of: "name=\"csrf\" value=\"")
        else { throw BenchClient.Failure(description: "no sign-in form at \(options.url)/sign-in") }
        let token = html[field.upperBound...].prefix { $0 != "\"" }
        var post = HTTPClientRequest(url: options.url + "/sign-in")
        post.method = .POST
        post.headers.add(name: "Cookie", value: String(signInCookie))
        post.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let secret = (options.password ?? "").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        post.body = .bytes(ByteBuffer(string: "csrf=\(token)&next=%2F&access_key_id=\(options.user ?? "")&secret_key=\(secret)"))
        // The answer is a 303 whose Set-Cookie matters: a client that does not follow it.
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let once = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let response: HTTPClientResponse
        do { response = try await once.execute(post, timeout: .seconds(30)) } catch {
            try? await once.shutdown()
            throw error
        }
        try await once.shutdown()
        guard let session = response.headers["Set-Cookie"].first(where: { $0.hasPrefix("kura_session=") })?.split(separator: ";").first else {
            throw BenchClient.Failure(description: "sign-in refused: \(response.status)")
        }
        return String(session)
    }

    private func send(
        _ client: BenchClient, _ path: String, _ method: HTTPMethod, body: String? = nil, cookie: String? = nil, expect status: HTTPResponseStatus
    ) async throws {
        var request = HTTPClientRequest(url: options.url + path)
        request.method = method
        if let cookie { request.headers.add(name: "Cookie", value: cookie) } else if let authorization = client.authorization {
            request.headers.add(name: "Authorization", value: authorization)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.http.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 16 << 20)
        guard response.status == status else { throw BenchClient.Failure(description: "\(method) \(path): \(response.status)") }
    }
}
