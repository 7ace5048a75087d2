#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
@testable import KuraMetadata
import KuraRegistry
import KuraStorage
@testable import KuraServe
import KuraServerTestSupport
import KuraTestSupport
import Logging
import NIOCore
import Testing

/// `kura catalog migrate`: a one-machine registry (SQLite, a data folder) moves up to a
/// PostgreSQL catalog, and a server on PostgreSQL with the same storage serves what was
/// pushed before, to the keys made before.
@Suite("kura catalog migrate", .serialized, .timeLimit(.minutes(20)))
struct CatalogMigrateTests {
    static let repositories = 10

    @Test("10,000 manifests move to PostgreSQL: counts agree, every tag pulls with its digest, keys made before still authenticate")
    func tenThousandManifestsMoveUp() async throws {
        let manifestCount = 10_000
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        defer { Task { await PostgreSQLServer.dropDatabase(database) } }
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            let access = ServerConfiguration.AccessSettings(enabled: true)
            // The one-machine registry: SQLite, pushes through the registry service.
            let (root, ci, pushed) = try await withLiveServer(dataDirectory: data, access: access) { client, services in
                let credentials = try #require(services.rootCredentials)
                let root = TestKey(id: credentials.accessKeyID, secret: credentials.secretKey)
                #expect(try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"team\"}").status == .created)
                let ci = try await client.makeAccount("ci", root: root, grants: [("team", "viewer")])
                let started = ContinuousClock.now
                let pushed = try await Self.push(manifestCount, into: services.registry)
                print("pushed \(manifestCount) manifests into SQLite in \(ContinuousClock.now - started)")
                return (root, ci, pushed)
            }
            #expect(pushed.count == manifestCount)

            var logger = Logger(label: "migrate")
            logger.logLevel = .warning
            let target = try await PostgresCatalog.open(url: url, poolSize: 4, startTimeout: .seconds(120), logger: logger)
            var keys: [String: [UInt8]] = [:]
            for key in DataFolder(data).sharedKeys {
                if let bytes = FileManager.default.contents(atPath: key.path) { keys[key.name] = Array(bytes) }
            }
            let started = ContinuousClock.now
            let summary = try await CatalogMigration(sourcePath: DataFolder(data).catalog, sharedKeys: keys, target: target).run()
            print("migrated \(summary.rowsCopied) rows (\(manifestCount) manifests) into PostgreSQL in \(ContinuousClock.now - started)")
            target.close()
            let rows = Dictionary(uniqueKeysWithValues: summary.tables.map { ($0.name, $0) })
            #expect(rows["manifests"]?.targetRows == Int64(manifestCount))
            #expect(rows["tags"]?.targetRows == Int64(manifestCount))
            #expect(rows["repositories"]?.targetRows == Int64(Self.repositories))
            for table in summary.tables { #expect(table.sourceRows == table.targetRows, "\(table.name)") }
            // The HMAC and token keys of access control, and the sealing key the replicator made.
            #expect(Set(summary.sharedKeys) == ["secret-hash", "token-es256", "secrets"])

            // The data folder keeps only its storage: the keys and the SQLite catalog go, so
            // the node can find root, the keys and the HMAC key only in PostgreSQL.
            for path in [DataFolder(data).keys, DataFolder(data).catalog, DataFolder(data).catalog + "-wal", DataFolder(data).catalog + "-shm"] {
                try? FileManager.default.removeItem(atPath: path)
            }
            let catalog = ServerConfiguration.CatalogSettings(backend: .postgres(url: url, poolSize: 8))
            try await withLiveServer(dataDirectory: data, access: access, catalog: catalog) { client, services in
                #expect(services.rootCredentials == nil, "root was migrated: no new root")
                var mismatches: [String] = []
                for (index, image) in pushed.enumerated() {
                    let key = index % 2 == 0 ? ci : root
                    var headers = key.basic
                    headers[.accept] = "application/vnd.oci.image.manifest.v1+json"
                    let response = try await client.execute(
                        uri: "/v2/\(image.repository)/manifests/\(image.tag)", method: .get, headers: headers)
                    if response.status != .ok || response.headers[.testDockerContentDigest] != image.digest.description {
                        mismatches.append("\(image.repository):\(image.tag) \(response.status)")
                    }
                }
                #expect(mismatches.isEmpty, "\(mismatches.count) tags did not pull: \(mismatches.prefix(5))")
                let listed = try await client.execute(uri: "/v2/_catalog?n=100", method: .get, headers: root.basic)
                #expect((listed.json?["repositories"] as? [String])?.count == Self.repositories)
                let tags = try await client.execute(uri: "/v2/team/app3/tags/list?n=5000", method: .get, headers: ci.basic)
                #expect((tags.json?["tags"] as? [String])?.count == manifestCount / Self.repositories)
                // A new push on PostgreSQL gets fresh ids (the sequences moved past the copied ones).
                let layer = pushed[0]
                let manifest = Self.manifest(config: layer.config, layer: layer.layer, n: -1)
                var headers = root.basic
                headers[.contentType] = "application/vnd.oci.image.manifest.v1+json"
                let put = try await client.execute(
                    uri: "/v2/\(layer.repository)/manifests/after-migration", method: .put, headers: headers, body: ByteBuffer(bytes: manifest))
                #expect(put.status == .created, "\(put.status) \(String(buffer: put.body))")
            }
        }
    }

    struct Pushed: Sendable {
        var repository: String
        var tag: String
        var digest: Digest
        var config: (Digest, Int)
        var layer: (Digest, Int)
    }

    /// Small image manifests over one config and one layer per repository, each tagged.
    static func push(_ count: Int, into registry: Registry) async throws -> [Pushed] {
        var blobs: [(Digest, Int)] = []
        for index in 0..<repositories {
            let repository = try RepositoryName(parsing: "team/app\(index)")
            var pair: [(Digest, Int)] = []
            for bytes in [Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":\(index)}".utf8), testBytes(512, seed: UInt64(index))] {
                let digest = sha256(bytes)
                _ = try await registry.uploadBlob(
                    SingleBufferSequence(buffer: ByteBuffer(bytes: bytes)), digest: digest, length: Int64(bytes.count), into: repository)
                pair.append((digest, bytes.count))
            }
            blobs += pair
        }
        // Four pushers at once: SQLite takes one write at a time, the hashing and storing overlap.
        let blobPairs = blobs
        let pushed = try await withThrowingTaskGroup(of: [Pushed].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var mine: [Pushed] = []
                    for n in stride(from: worker, to: count, by: 4) {
                        let index = n % repositories
                        let repository = try RepositoryName(parsing: "team/app\(index)")
                        let config = blobPairs[2 * index], layer = blobPairs[2 * index + 1]
                        let tag = try Tag(parsing: "v\(n)")
                        let result = try await registry.putManifest(
                            ByteBuffer(bytes: manifest(config: config, layer: layer, n: n)),
                            contentType: "application/vnd.oci.image.manifest.v1+json", reference: .tag(tag), in: repository)
                        mine.append(Pushed(repository: repository.value, tag: tag.value, digest: result.digest, config: config, layer: layer))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [Pushed]()) { $0 += $1 }
        }
        return pushed
    }

    static func manifest(config: (Digest, Int), layer: (Digest, Int), n: Int) -> [UInt8] {
        Array(
            """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(config.0)","size":\(config.1)},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(layer.0)","size":\(layer.1)}],\
            "annotations":{"n":"\(n)"}}
            """.utf8)
    }

    @Test("kura catalog migrate killed in the middle of a table resumes when run again; a migrated target is then refused")
    func aKilledMigrationResumes() async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        defer { Task { await PostgreSQLServer.dropDatabase(database) } }
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let count = 3_000
            do {
                let store = try SQLiteMetadataStore(path: DataFolder(data).catalog)
                defer { try? store.close() }
                let repository = try RepositoryName(parsing: "team/app")
                for n in 0..<count {
                    let record = ManifestRecord(digest: sha256(Array("m\(n)".utf8)), mediaType: "application/vnd.oci.image.manifest.v1+json", size: 10)
                    try await store.putManifest(record, references: [], in: repository, tag: try Tag(parsing: "t\(n)"))
                }
            }
            guard FileManager.default.isExecutableFile(atPath: ServeProcessTests.executable) else {
                throw TestFailure("\(ServeProcessTests.executable) is missing: build it first (swift build --build-tests)")
            }
            // One row per batch, so the copy is still running when it is killed.
            let stderrPath = "\(scratch)/migrate.stderr"
            let process = try ChildProcess.spawn(
                ServeProcessTests.executable, ["catalog", "migrate", "--from", data, "--to", url, "--json", "--batch-size", "1"],
                standardError: .file(stderrPath))
            let reached = try await Poll.until("the migration to copy 300 manifests", timeout: .seconds(120)) { () -> Int? in
                let lines = ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "").split(separator: "\n")
                for line in lines.reversed() {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                    if object["table"] as? String == "manifests", let copied = object["copied"] as? Int, copied >= 300 { return copied }
                }
                return process.isRunning ? nil : -1
            }
            #expect(reached >= 300, "the process ended before it could be killed")
            process.signal(SIGKILL)
            #expect(await process.wait() == .signalled(SIGKILL))

            var logger = Logger(label: "check")
            logger.logLevel = .warning
            let target = try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(60), logger: logger)
            let copiedBefore = try await target.rowCount("manifests")
            #expect(copiedBefore >= 300 && copiedBefore < Int64(count))
            #expect(try await target.rowCount("tags") == 0)
            target.close()

            let resumed = try await runKura(["catalog", "migrate", "--from", data, "--to", url, "--json"], scratch: scratch)
            #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
            #expect(summary["resumed"] as? Bool == true)
            let tables = (summary["tables"] as? [[String: Any]]) ?? []
            let manifests = try #require(tables.first { $0["name"] as? String == "manifests" })
            #expect(manifests["targetRows"] as? Int == count && manifests["sourceRows"] as? Int == count)
            #expect(manifests["copiedThisRun"] as? Int == count - Int(copiedBefore))
            #expect(tables.first { $0["name"] as? String == "tags" }?["targetRows"] as? Int == count)

            let again = try await runKura(["catalog", "migrate", "--from", data, "--to", url, "--json"], scratch: scratch)
            #expect(again.status == 1)
            let refusal = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
            #expect((refusal?["error"] as? String)?.contains("not empty") == true, "\(again.stdout)")
            let human = try await runKura(["catalog", "migrate", "--from", data, "--to", url], scratch: scratch)
            #expect(human.status == 1 && human.stderr.contains("--force"), "\(human.stderr)")
        }
    }
}
