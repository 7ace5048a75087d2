import AsyncHTTPClient
import Foundation
import KuraCore
@testable import KuraServe
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Three `kura serve` processes on one PostgreSQL and one SeaweedFS, haproxy in front
/// (``LocalCluster``): clients go through the balancer, nodes die, and nothing acknowledged
/// is lost.
@Suite("A cluster of three nodes behind haproxy", .serialized, .timeLimit(.minutes(5)))
struct ClusterTests {
    static let mib = 1 << 20

    @Test("skopeo pushes and pulls through the balancer")
    func skopeoThroughTheBalancer() async throws {
        try await Self.withCluster { cluster, scratch in
            let skopeo = try SkopeoRunner(scratch: scratch)
            let image = try await TestImage.make(.oci, architecture: "amd64", files: ["hello.txt": "hello from a cluster\n"], scratch: scratch)
            let source = "\(scratch)/oci-source"
            try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
            let authority = "127.0.0.1:\(cluster.balancer.port)"
            let root = cluster.root
            try await skopeo.copy("oci:\(source):v1", "docker://\(authority)/team/app:v1", options: ["--dest-creds=\(root.id):\(root.secret)"])
            let out = "\(scratch)/dir-out"
            try await skopeo.copy("docker://\(authority)/team/app:v1", "dir:\(out)", options: ["--src-creds=\(root.id):\(root.secret)"])
            #expect(LiveKuraRegistry.fileBytes("\(out)/manifest.json") == image.manifest.bytes)
            for blob in image.referencedBlobs {
                #expect(LiveKuraRegistry.fileBytes("\(out)/\(blob.hex)") == blob.bytes, "blob \(blob.digest)")
            }
            // Every node serves the tag.
            for index in cluster.nodes.indices {
                let tags = try await ClusterHTTP.send(.GET, cluster.nodeURL(index) + "/v2/team/app/tags/list", key: root)
                #expect(tags.json?["tags"] as? [String] == ["v1"], "node \(index + 1): \(tags.text)")
            }
        }
    }

    @Test("A chunked upload through the balancer has its requests served by different nodes")
    func aChunkedUploadSpreadsOverNodes() async throws {
        try await Self.withCluster { cluster, scratch in
            let bytes = testBytes(13 * Self.mib, seed: 1813)
            var served: [String] = []
            let upload = try await Self.chunkedUpload(bytes, cluster: cluster, chunk: 6 * Self.mib) { served.append($0) }
            #expect(upload.status == 201, "\(upload.status) \(upload.text)")
            // POST, two PATCHes and the PUT, round robin: at least two nodes (three when
            // nothing else reached haproxy in between).
            #expect(served.count == 4 && Set(served).count >= 2, "served by \(served)")
            let pulled = try await ClusterHTTP.send(.GET, cluster.url + "/v2/team/app/blobs/\(sha256(bytes))", key: cluster.root)
            #expect(pulled.status == 200 && pulled.body == bytes)
        }
    }

    @Test("A node killed in the middle of an upload and of a pull: the client's retry through the balancer completes and nothing acknowledged is lost")
    func nodesKilledMidUploadAndMidPull() async throws {
        try await Self.withCluster { cluster, scratch in
            let root = cluster.root
            // Acknowledged before any node dies: a blob and a manifest referring to it.
            let earlier = try await Self.pushImage(cluster.url, root: root, repository: "team/before", tag: "v1", seed: 1)
            #expect(earlier.acknowledged)

            // The upload: the first chunk acknowledged, the second sent slowly to node 2, which dies.
            let bytes = testBytes(12 * Self.mib, seed: 18_12)
            let post = try await ClusterHTTP.send(.POST, cluster.url + "/v2/team/app/blobs/uploads/", key: root)
            #expect(post.status == 202)
            let first = try await ClusterHTTP.send(
                .PATCH, cluster.at(try #require(post.location)), key: root,
                headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "0-\(6 * Self.mib - 1)")], body: Array(bytes[0..<(6 * Self.mib)]))
            #expect(first.status == 202, "\(first.status) \(first.text)")
            let location = try #require(first.location)
            let sent = SentPieces()
            let interrupted = Task { () -> Int? in
                var request = HTTPClientRequest(url: cluster.at(location))
                request.method = .PATCH
                request.headers.add(name: "Authorization", value: "Basic " + Data("\(root.id):\(root.secret)".utf8).base64EncodedString())
                request.headers.add(name: "Content-Type", value: "application/octet-stream")
                request.headers.add(name: "Content-Range", value: "\(6 * Self.mib)-\(12 * Self.mib - 1)")
                request.headers.add(name: "X-Kura-Node", value: "node2")
                let pieces = stride(from: 6 * Self.mib, to: 12 * Self.mib, by: 256 << 10).map { ByteBuffer(bytes: bytes[$0..<($0 + (256 << 10))]) }
                request.body = .stream(SlowBody(pieces: pieces, delay: .milliseconds(100), sent: sent), length: .known(Int64(6 * Self.mib)))
                return try? await Int(HTTPClient.shared.execute(request, timeout: .seconds(60)).status.code)
            }
            try await Poll.until("a few pieces on their way to node 2") { sent.value >= 3 ? true : nil }
            await cluster.crash(node: 1)
            let status = await interrupted.value
            #expect(status != 202, "the chunk sent to the killed node was not acknowledged (\(String(describing: status)))")
            // The client asks the balancer where the upload stands and resumes from there.
            let where_ = try await ClusterHTTP.send(.GET, cluster.at(location), key: root)
            #expect(where_.status == 204 && where_.headers.first(name: "Range") == "0-\(6 * Self.mib - 1)", "\(where_.status) \(where_.headers)")
            let resumed = try await ClusterHTTP.send(
                .PATCH, cluster.at(where_.location ?? location), key: root,
                headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "\(6 * Self.mib)-\(12 * Self.mib - 1)")],
                body: Array(bytes[(6 * Self.mib)...]))
            #expect(resumed.status == 202, "\(resumed.status) \(resumed.text)")
            let next = try #require(resumed.location)
            let put = try await ClusterHTTP.send(.PUT, cluster.at(next) + (next.contains("?") ? "&" : "?") + "digest=\(sha256(bytes))", key: root)
            #expect(put.status == 201, "\(put.status) \(put.text)")
            #expect(put.node != "node2")

            // The pull: node 3 starts sending a blob and dies; the client asks the balancer
            // for the rest (a Range request) and gets it from node 1. The blob is larger than
            // what the sockets between node, haproxy and client can hold (~20 MiB on
            // loopback), or node 3 could have sent all of it before it died.
            let large = testBytes(64 * Self.mib, seed: 18_13)
            let stored = try await ClusterHTTP.send(
                .POST, cluster.url + "/v2/team/app/blobs/uploads/?digest=\(sha256(large))", key: root,
                headers: [("Content-Type", "application/octet-stream")], body: large)
            #expect(stored.status == 201, "\(stored.status) \(stored.text)")
            var request = HTTPClientRequest(url: cluster.url + "/v2/team/app/blobs/\(sha256(large))")
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(root.id):\(root.secret)".utf8).base64EncodedString())
            request.headers.add(name: "X-Kura-Node", value: "node3")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            #expect(response.status == .ok && response.headers.first(name: "X-Kura-Node") == "node3")
            var received: [UInt8] = []
            do {
                for try await buffer in response.body {
                    received += buffer.readableBytesView
                    if cluster.nodes[2].process.isRunning { await cluster.crash(node: 2) }
                }
            } catch {
                // The connection ended with the node.
            }
            #expect(received.count < large.count, "the pull was cut short (\(received.count) of \(large.count) bytes)")
            let rest = try await ClusterHTTP.send(
                .GET, cluster.url + "/v2/team/app/blobs/\(sha256(large))", key: root, headers: [("Range", "bytes=\(received.count)-")])
            #expect(rest.status == 206 && rest.node == "node1", "\(rest.status) from \(rest.node ?? "?")")
            #expect(received + rest.body == large, "the pieces are the blob")

            // Everything acknowledged before the kills is still there.
            #expect(try await Self.pulls(earlier, from: cluster.url, root: root))
        }
    }

    @Test("A key disabled through node 1 is refused by node 3 within a second (node 3 had it cached)")
    func aKeyDisabledOnOneNodeIsRefusedByAnother() async throws {
        try await Self.withCluster { cluster, scratch in
            let root = cluster.root
            let node1 = cluster.nodeURL(0), node3 = cluster.nodeURL(2)
            #expect(try await ClusterHTTP.send(.POST, node1 + "/api/v1/accounts", key: root, json: "{\"name\":\"ci\"}").status == 201)
            #expect(try await ClusterHTTP.send(.PUT, node1 + "/api/v1/accounts/ci/grants/team", key: root, json: "{\"role\":\"manager\"}").status == 204)
            let made = try await ClusterHTTP.send(.POST, node1 + "/api/v1/accounts/ci/keys", key: root)
            let ci = TestKey(id: try #require(made.json?["accessKeyID"] as? String), secret: try #require(made.json?["secretKey"] as? String))
            #expect(try await ClusterHTTP.send(.GET, node3 + "/v2/", key: ci).status == 200)
            let disabled = try await ClusterHTTP.send(.PATCH, node1 + "/api/v1/keys/\(ci.id)", key: root, json: "{\"status\":\"disabled\"}")
            #expect(disabled.status == 204, "\(disabled.status) \(disabled.text)")
            // Node 1 made the change: refused there at once, without waiting for a notification.
            #expect(try await ClusterHTTP.send(.GET, node1 + "/v2/", key: ci).status == 401)
            // Node 3 hears it through LISTEN/NOTIFY; its cached copy would last a second at most.
            let delay = try await Self.timeUntil("node 3 refuses the disabled key") {
                try await ClusterHTTP.send(.GET, node3 + "/v2/", key: ci).status == 401
            }
            print("cluster: node 3 refused the key disabled through node 1 after \(delay)")
            // And through the balancer, whichever node answers.
            var nodes: Set<String> = []
            for _ in 0..<3 {
                let reply = try await ClusterHTTP.send(.GET, cluster.url + "/v2/team/app/tags/list", key: ci)
                #expect(reply.status == 401)
                if let node = reply.node { nodes.insert(node) }
            }
            #expect(nodes.count >= 2, "answered by \(nodes)")
        }
    }

    @Test("A namespace made private through node 1 is private on node 3 within a second (node 3 had it cached)")
    func aNamespaceMadePrivateOnOneNodeIsPrivateOnAnother() async throws {
        try await Self.withCluster { cluster, _ in
            let node1 = cluster.nodeURL(0), node3 = cluster.nodeURL(2)
            let made = try await ClusterHTTP.send(.POST, node1 + "/api/v1/namespaces", key: cluster.root, json: "{\"name\":\"open\",\"public\":true}")
            #expect(made.status == 201, "\(made.status) \(made.text)")
            // Anonymous pulls from a public namespace pass authorisation (the repository does
            // not exist: 404); from a private one they are refused (401).
            let publicReply = try await ClusterHTTP.send(.GET, node3 + "/v2/open/app/tags/list")
            #expect(publicReply.status == 404, "\(publicReply.status) \(publicReply.text)")
            let changed = try await ClusterHTTP.send(.PATCH, node1 + "/api/v1/namespaces/open", key: cluster.root, json: "{\"public\":false}")
            #expect(changed.status == 204, "\(changed.status) \(changed.text)")
            #expect(try await ClusterHTTP.send(.GET, node1 + "/v2/open/app/tags/list").status == 401)
            let delay = try await Self.timeUntil("node 3 treats the namespace as private") {
                try await ClusterHTTP.send(.GET, node3 + "/v2/open/app/tags/list").status == 401
            }
            print("cluster: node 3 saw the namespace private after \(delay)")
        }
    }

    /// How long `condition` took to hold, polled for at most a second: the issue's bound for
    /// a change made on one node to take effect on the others.
    static func timeUntil(_ what: String, _ condition: () async throws -> Bool) async throws -> Duration {
        let start = ContinuousClock.now
        try await Poll.until(what, timeout: .seconds(1), interval: .milliseconds(10)) { try await condition() ? true : nil }
        return ContinuousClock.now - start
    }

    @Test("Garbage collection on node 1 while pushes go to nodes 2 and 3 loses nothing that was acknowledged")
    func gcOnOneNodeWhilePushingToTheOthers() async throws {
        try await Self.withCluster { cluster, scratch in
            let root = cluster.root
            let collections = 3
            let pushed = try await withThrowingTaskGroup(of: [PushedImage].self) { group in
                // `kura gc` with no grace period, with node 1's data folder and configuration.
                group.addTask {
                    for _ in 0..<collections {
                        try await ExternalProcess.run(
                            ServeProcessTests.executable,
                            ["gc", "--config", cluster.configuration, "--data", "\(scratch)/node1", "--grace", "0s", "--json"], scratch: scratch)
                    }
                    return []
                }
                for node in [1, 2] {
                    group.addTask {
                        var images: [PushedImage] = []
                        for index in 0..<5 {
                            let seed = UInt64(node * 100 + index)
                            images.append(try await Self.pushImage(cluster.nodeURL(node), root: root, repository: "team/app\(node)", tag: "t\(index)", seed: seed))
                        }
                        return images
                    }
                }
                var all: [PushedImage] = []
                for try await images in group { all += images }
                return all
            }
            // One more collection after the pushes: what they left must survive it too.
            try await ExternalProcess.run(
                ServeProcessTests.executable, ["gc", "--config", cluster.configuration, "--data", "\(scratch)/node1", "--grace", "0s"], scratch: scratch)
            let jobs = try await ClusterHTTP.send(.GET, cluster.url + "/api/v1/jobs?kind=gc", key: root)
            let runs = (try? JSONSerialization.jsonObject(with: Data(jobs.body))) as? [[String: Any]] ?? []
            #expect(runs.count == collections + 1, "\(jobs.text)")
            #expect(pushed.count == 10 && pushed.allSatisfy(\.acknowledged), "every push was acknowledged, after retries")
            for image in pushed where image.acknowledged {
                #expect(try await Self.pulls(image, from: cluster.url, root: root), "\(image.repository):\(image.tag)")
            }
        }
    }

    /// Node 1's round comes first and finishes; node 2's comes later in the same minute and
    /// finds the round claimed. (Before rounds were claimed, node 2 found the maintenance
    /// lease free again and collected a second time.) Each node has a manual clock of its
    /// own, so the test says when each one's minute is up.
    @Test("Two nodes scheduled to collect in the same minute collect once")
    func twoNodesScheduledInTheSameMinuteCollectOnce() async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        defer { Task { await PostgreSQLServer.dropDatabase(database) } }
        try await withTemporaryDirectory { scratch in
            let storage = try await S3StorageTests.storage(scratch: scratch)
            let catalog = ServerConfiguration.CatalogSettings(backend: .postgres(url: url, poolSize: 4))
            let access = ServerConfiguration.AccessSettings(enabled: true)
            let schedule = ServerConfiguration.GarbageCollectionSchedule(enabled: true, intervalSeconds: 60, graceSeconds: 0)
            let clock1 = ManualClock(), clock2 = ManualClock()
            try await withLiveServer(
                dataDirectory: "\(scratch)/node1", access: access, gc: schedule, storage: storage, clock: clock1, catalog: catalog
            ) { first, services in
                let credentials = try #require(services.rootCredentials)
                let root = TestKey(id: credentials.accessKeyID, secret: credentials.secretKey)
                try await withLiveServer(
                    dataDirectory: "\(scratch)/node2", access: access, gc: schedule, storage: storage, clock: clock2, catalog: catalog
                ) { _, _ in
                    let records = { (kind: String) async throws -> [[String: Any]] in
                        let jobs = try await first.admin(.get, "jobs?kind=\(kind)", as: root)
                        return (try? JSONSerialization.jsonObject(with: Data(jobs.body.readableBytesView))) as? [[String: Any]] ?? []
                    }
                    let runs = { (kind: String) async throws -> Int in try await records(kind).count }
                    // Node 1's round is over: its collection is recorded as finished and the
                    // maintenance lease is free (this test takes it for a moment to see).
                    let leases = services.registry.catalog.collection
                    let roundOver = { (count: Int) async throws -> Bool? in
                        let gc = try await records("gc")
                        guard gc.count >= count, gc.allSatisfy({ $0["finishedAt"] != nil }) else { return nil }
                        guard try await leases.acquireJobLock("maintenance", owner: "cluster-test", ttl: 5) else { return nil }
                        try await leases.releaseJobLock("maintenance", owner: "cluster-test")
                        return true
                    }
                    #expect(await clock1.waitForSleepers(1), "node 1's scheduler waits on its clock")
                    #expect(await clock2.waitForSleepers(1), "node 2's scheduler waits on its clock")
                    // Node 1's minute is up: it collects.
                    clock1.advance(by: .seconds(60))
                    try await Poll.until("node 1's collection") { try await roundOver(1) }
                    // Node 2's minute is up later in the same minute: its round is over when everything
                    // that sleeps on its clock sleeps again.
                    let sleeping = clock2.sleeperCount
                    clock2.advance(by: .seconds(60))
                    #expect(await clock2.waitForSleepers(sleeping))
                    #expect(try await runs("gc") == 1, "one collection in the minute, not one per node")
                    #expect(try await runs("retention") == 1)
                    // Node 1's next minute: the node that ran the last round runs the next.
                    clock1.advance(by: .seconds(60))
                    try await Poll.until("node 1's second collection") { try await roundOver(2) }
                    #expect(try await runs("retention") == 2)
                }
            }
        }
    }

    // MARK: helpers

    /// A cluster (``LocalCluster``) with namespace `team`, in a scratch folder.
    static func withCluster<T: Sendable>(_ body: @Sendable (LocalCluster, _ scratch: String) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { scratch in
            try await LocalCluster.with(scratch: scratch) { cluster in
                try await cluster.makeNamespace()
                return try await body(cluster, scratch)
            }
        }
    }

    /// POST, PATCHes of `chunk` bytes and the closing PUT through the balancer; `served` hears
    /// which node answered each.
    static func chunkedUpload(
        _ bytes: [UInt8], cluster: LocalCluster, chunk: Int, served: (String) -> Void
    ) async throws -> ClusterHTTP.Reply {
        let post = try await ClusterHTTP.send(.POST, cluster.url + "/v2/team/app/blobs/uploads/", key: cluster.root)
        guard post.status == 202, var location = post.location else { throw TestFailure("POST: \(post.status) \(post.text)") }
        served(post.node ?? "?")
        var offset = 0
        while bytes.count - offset > chunk {
            let patch = try await ClusterHTTP.send(
                .PATCH, cluster.at(location), key: cluster.root,
                headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "\(offset)-\(offset + chunk - 1)")],
                body: Array(bytes[offset..<(offset + chunk)]))
            guard patch.status == 202, let next = patch.location else { throw TestFailure("PATCH at \(offset): \(patch.status) \(patch.text)") }
            served(patch.node ?? "?")
            location = next
            offset += chunk
        }
        let put = try await ClusterHTTP.send(
            .PUT, cluster.at(location) + (location.contains("?") ? "&" : "?") + "digest=\(sha256(bytes))", key: cluster.root,
            headers: [("Content-Type", "application/octet-stream")], body: Array(bytes[offset...]))
        served(put.node ?? "?")
        return put
    }

    struct PushedImage: Sendable {
        var repository: String
        var tag: String
        var manifest: [UInt8]
        var blobs: [[UInt8]]
        var acknowledged: Bool
    }

    /// Pushes a config and a layer, then the manifest; when the registry answers
    /// MANIFEST_BLOB_UNKNOWN (a collection took a blob not yet referred to), pushes the blobs
    /// again, as a client does. Acknowledged: the manifest PUT answered 201.
    static func pushImage(_ base: String, root: TestKey, repository: String, tag: String, seed: UInt64) async throws -> PushedImage {
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\(seed)}".utf8)
        let layer = testBytes(64 << 10, seed: seed)
        let manifest = Array(
            """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(sha256(config))","size":\(config.count)},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(sha256(layer))","size":\(layer.count)}]}
            """.utf8)
        var image = PushedImage(repository: repository, tag: tag, manifest: manifest, blobs: [config, layer], acknowledged: false)
        for _ in 0..<5 {
            for blob in image.blobs {
                // 503: a collection took the blob while this upload completed; upload it again.
                var pushed = try await ClusterHTTP.send(
                    .POST, base + "/v2/\(repository)/blobs/uploads/?digest=\(sha256(blob))", key: root,
                    headers: [("Content-Type", "application/octet-stream")], body: blob)
                for _ in 0..<5 where pushed.status == 503 {
                    pushed = try await ClusterHTTP.send(
                        .POST, base + "/v2/\(repository)/blobs/uploads/?digest=\(sha256(blob))", key: root,
                        headers: [("Content-Type", "application/octet-stream")], body: blob)
                }
                guard pushed.status == 201 else { throw TestFailure("blob push to \(base): \(pushed.status) \(pushed.text)") }
            }
            let put = try await ClusterHTTP.send(
                .PUT, base + "/v2/\(repository)/manifests/\(tag)", key: root,
                headers: [("Content-Type", "application/vnd.oci.image.manifest.v1+json")], body: manifest)
            if put.status == 201 {
                image.acknowledged = true
                return image
            }
            guard put.status == 400, put.text.contains("MANIFEST_BLOB_UNKNOWN") else { throw TestFailure("manifest push: \(put.status) \(put.text)") }
        }
        return image
    }

    /// The manifest pulls by tag with the pushed bytes, and so does each blob.
    static func pulls(_ image: PushedImage, from base: String, root: TestKey) async throws -> Bool {
        let manifest = try await ClusterHTTP.send(
            .GET, base + "/v2/\(image.repository)/manifests/\(image.tag)", key: root,
            headers: [("Accept", "application/vnd.oci.image.manifest.v1+json")])
        guard manifest.status == 200, manifest.body == image.manifest else { return false }
        for blob in image.blobs {
            let pulled = try await ClusterHTTP.send(.GET, base + "/v2/\(image.repository)/blobs/\(sha256(blob))", key: root)
            guard pulled.status == 200, pulled.body == blob else { return false }
        }
        return true
    }
}
