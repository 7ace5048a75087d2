import Foundation
import KuraCore
@testable import KuraMetadata
import KuraTestSupport
import Testing

/// `kura catalog migrate` below the command: a SQLite catalog with rows in every table,
/// copied into a real PostgreSQL, read back through every store.
@Suite("Catalog migration from SQLite to PostgreSQL", .serialized)
struct CatalogMigrationTests {
    /// A SQLite catalog file with `manifests` tagged manifests in two repositories and a row
    /// or more in every other table; `body` gets its path and the store.
    @discardableResult
    static func withSource<T>(manifests: Int = 40, _ body: (String, SQLiteMetadataStore) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("catalog.sqlite").path
        let store = try SQLiteMetadataStore(path: path)
        defer { try? store.close() }
        try await fill(Catalog(store), manifests: manifests)
        return try await body(path, store)
    }

    static let config = digest(1_000_001), layer = digest(1_000_002), collected = digest(1_000_003)

    static func fill(_ catalog: Catalog, manifests: Int) async throws {
        let metadata = catalog.metadata
        for name in ["team/app", "team/db"] {
            try await metadata.linkBlob(config, size: 10, in: repo(name))
            try await metadata.linkBlob(layer, size: 2_000, in: repo(name))
        }
        let references = [ManifestReference(digest: config, kind: .blob), ManifestReference(digest: layer, kind: .blob)]
        for n in 0..<manifests {
            let repository = try repo(n % 2 == 0 ? "team/app" : "team/db")
            try await metadata.putManifest(
                manifestRecord(n, annotations: ["n": "\(n)"]), references: references, in: repository, tag: tag("v\(n)"))
        }
        // A referrer, an index with a child, an untagged manifest, an upload in progress.
        try await metadata.putManifest(
            manifestRecord(5_000, artifactType: "application/vnd.example.sbom", subject: digest(0)), references: references,
            in: repo("team/app"), tag: nil)
        try await metadata.putManifest(
            manifestRecord(5_001, mediaType: "application/vnd.oci.image.index.v1+json"),
            references: [ManifestReference(digest: digest(0), kind: .manifest)], in: repo("team/app"), tag: tag("multi"))
        try await metadata.createUpload("upload-1", in: repo("team/app"))
        // An untagged manifest GC deleted.
        try await metadata.putManifest(manifestRecord(5_002), references: references, in: repo("team/db"), tag: nil)
        let untagged = try #require(try await catalog.collection.untaggedManifest(digest(5_002), in: repo("team/db")))
        #expect(try await catalog.collection.deleteManifestCandidate(untagged, createdBefore: Date().addingTimeInterval(60)))
        // A blob GC collected.
        try await metadata.linkBlob(collected, size: 5, in: repo("team/old"))
        _ = try await metadata.unlinkBlob(collected, from: repo("team/old"))
        let taken = try await catalog.collection.beginCollecting([collected], linkedBefore: Date().addingTimeInterval(60))
        #expect(taken.map(\.digest) == [collected])
        try await catalog.collection.finishCollecting([collected], failed: [])
        let run = try await catalog.collection.startJobRun(kind: "gc", owner: "node-a", dryRun: false)
        try await catalog.collection.finishJobRun(run, summary: "{\"freed\":1}", error: nil)
        _ = try await catalog.collection.acquireJobLock("gc", owner: "node-a", ttl: 3600)

        let access = catalog.access
        try await access.createAccount(Account(name: "root", isRoot: true, isAdmin: true, createdAt: date(milliseconds: 1_700_000_000_000)))
        try await access.createAccount(Account(name: "ci", disabled: true, createdAt: date(milliseconds: 1_700_000_000_001)))
        try await access.createKey(
            AccessKeyRecord(id: "KROOT", account: "root", secretHash: [0, 1, 2, 255], createdAt: date(milliseconds: 1_700_000_000_002),
                            lastUsedAt: date(milliseconds: 1_700_000_000_003)))
        try await access.createKey(
            AccessKeyRecord(id: "KCI", account: "ci", secretHash: [9, 9], status: .disabled, createdAt: date(milliseconds: 1_700_000_000_004)))
        try await access.createNamespace(NamespaceRecord(name: "team", isPublic: true, createdAt: date(milliseconds: 1_700_000_000_005)))
        try await access.setGrant(Grant(account: "ci", namespace: "team", role: .viewer))
        _ = try await access.updateDescription(of: "team/app", short: "The app", full: "# App\n\nIt *runs*.", at: date(milliseconds: 1_700_000_000_006))
        for n in 0..<3 {
            try await access.appendAudit(
                AuditEvent(time: date(milliseconds: 1_700_000_001_000 + Int64(n)), account: "root", accessKeyID: "KROOT", sourceAddress: "10.0.0.\(n)",
                           action: "manifest.push", namespace: "team", repository: "team/app", detail: "v\(n)"))
        }
        try await catalog.retention.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 5))
        try await catalog.quotas.setQuota(namespace: "team", maxBytes: 1 << 30)
        let hour = date(milliseconds: 1_700_002_800_000)
        try await catalog.usage.addUsage([
            UsageBucket(hour: hour, namespace: "team", repository: "team/app", accessKeyID: "KROOT", kind: .manifestPull):
                UsageCounts(calls: 3, bytesIn: 0, bytesOut: 900)
        ])
        try await catalog.usage.recordStorageSamples([StorageSample(day: hour, namespace: "team", physicalBytes: 2_010, logicalBytes: 4_020)])
        try await catalog.usage.recordPulls([
            ManifestPull(repository: try repo("team/app"), reference: .tag(try tag("v0"))): date(milliseconds: 1_700_002_900_000)
        ])
        try await catalog.webhooks.createWebhook(
            WebhookRecord(id: "wh1", namespace: "team", url: "https://hooks.example/kura", sealedSecret: [7, 0, 7], events: [.push, .delete],
                          createdAt: date(milliseconds: 1_700_000_000_007)))
        try await catalog.replication.putReplicationRule(ReplicationRuleRecord(name: "to-dr", document: Array("{\"x\":1}".utf8)))
        try await catalog.scans.putScan(
            ScanRecord(manifest: digest(0), repository: "team/app", status: .succeeded, scannedAt: date(milliseconds: 1_700_000_000_008),
                       databaseImport: 3, report: Data("{\"packages\":[1]}".utf8)))
        // More scan results than one batch of them holds (reports can be large: 20 a batch).
        for n in 1...25 {
            try await catalog.scans.putScan(
                ScanRecord(manifest: digest(n), repository: "team/db", status: .succeeded, scannedAt: date(milliseconds: 1_700_000_000_009),
                           report: Data(repeating: UInt8(n), count: 1_000)))
        }
        try await catalog.scans.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "HIGH", allowList: ["CVE-1", "CVE-2"]))
        try await catalog.consoleSessions.createConsoleSession(
            ConsoleSessionRecord(idHash: "ab12", keyID: "KURAKEY1", csrfToken: "token", createdAt: Date(timeIntervalSince1970: 1_800_000_000),
                                 lastSeenAt: Date(timeIntervalSince1970: 1_800_000_060)))
    }

    /// What a catalog answers about the rows ``fill(_:manifests:)`` wrote, as text to compare.
    static func reads(_ catalog: Catalog, manifests: Int) async throws -> [String] {
        var lines: [String] = []
        let metadata = catalog.metadata
        lines.append("repositories \(try await metadata.repositories(after: nil, limit: 100))")
        for name in ["team/app", "team/db"] {
            let repository = try repo(name)
            let tags = try await metadata.tags(in: repository, after: nil, limit: 10_000)
            lines.append("\(name) tags \(tags)")
            for tag in tags {
                lines.append("\(name):\(tag) \(String(describing: try await metadata.manifest(tagged: tag, in: repository)))")
            }
            lines.append("\(name) links \(String(describing: try await metadata.blobLink(config, in: repository)))")
            lines.append("\(name) tag records \(try await catalog.retention.tagRecords(in: repository).count)")
        }
        lines.append("references \(try await metadata.references(of: digest(5_001), in: repo("team/app")))")
        lines.append("referrers \(try await metadata.referrers(of: digest(0), in: repo("team/app"), artifactType: nil))")
        lines.append("upload \(String(describing: try await metadata.upload("upload-1")))")
        lines.append("collected \(String(describing: try await catalog.collection.collectionState(collected)))")
        lines.append("layer \(String(describing: try await catalog.collection.collectionState(layer)))")
        lines.append("totals \(try await catalog.collection.catalogBlobTotals())")
        lines.append("runs \(try await catalog.collection.jobRuns(kind: nil, limit: 10).map { "\($0.id) \($0.kind) \($0.owner) \($0.summary ?? "")" })")
        let access = catalog.access
        lines.append("accounts \(try await access.accounts())")
        lines.append("keys \(try await access.keys(of: "root")) \(try await access.keys(of: "ci"))")
        lines.append("namespaces \(try await access.namespaces())")
        lines.append("grants \(try await access.grants(of: "ci"))")
        lines.append("description \(String(describing: try await access.description(of: "team/app")))")
        lines.append("audit \(try await access.auditEvents(AuditQuery()))")
        lines.append("retention \(try await catalog.retention.retentionPolicies())")
        lines.append("quota \(String(describing: try await catalog.quotas.quota(namespace: "team")))")
        lines.append("physical \(try await catalog.quotas.physicalBytes(namespace: "team", including: nil))")
        lines.append(
            "usage \(try await catalog.usage.usage(UsageQuery(from: date(milliseconds: 0), to: date(milliseconds: 1_800_000_000_000), grouping: .key)))")
        lines.append("storage \(try await catalog.usage.storage(namespace: nil))")
        lines.append("stored per day \(try await catalog.usage.storageSamples(namespace: "team", from: date(milliseconds: 0), to: date(milliseconds: 1_800_000_000_000)))")
        lines.append("tag pulls \(try await catalog.usage.lastPulls(of: try tags("v0", "v2", "multi"), in: repo("team/app")))")
        lines.append(
            "webhooks \(try await catalog.webhooks.webhooks(namespace: nil).map { "\($0.id) \($0.namespace) \($0.url) \($0.sealedSecret) \($0.events.map(\.rawValue).sorted()) \($0.createdAt)" })")
        lines.append("replication \(try await catalog.replication.replicationRules())")
        lines.append("scan \(String(describing: try await catalog.scans.scan(of: digest(0))))")
        lines.append("scans \(try await catalog.scans.succeededScans(after: nil, limit: 100).map { "\($0.manifest) \($0.report?.count ?? 0)" })")
        lines.append("scan policy \(String(describing: try await catalog.scans.scanPolicy(namespace: "team")))")
        return lines
    }

    /// A fresh, migrated PostgreSQL database.
    static func withTarget<T>(_ body: (PostgresCatalog) async throws -> T) async throws -> T {
        let (url, database) = try await PostgreSQLServer.makeDatabase(template: try await CatalogFixture.migratedTemplate.value)
        let target = try await PostgresCatalog.open(url: url, poolSize: 4, startTimeout: .seconds(120), logger: testLogger)
        do {
            let result = try await body(target)
            target.close()
            await PostgreSQLServer.dropDatabase(database)
            return result
        } catch {
            target.close()
            await PostgreSQLServer.dropDatabase(database)
            throw error
        }
    }

    static let keys: [String: [UInt8]] = ["secret-hash": Array(repeating: 0x5a, count: 32), "token-es256": Array("-----BEGIN EC…".utf8)]

    @Test("Every table is copied: each store reads the same from PostgreSQL as from SQLite, counts agree, keys and ids carry over")
    func everyTableIsCopied() async throws {
        try await Self.withSource { path, store in
            try await Self.withTarget { target in
                let summary = try await CatalogMigration(sourcePath: path, sharedKeys: Self.keys, target: target, batchSize: 7).run()
                #expect(!summary.resumed && !summary.replacedTarget)
                #expect(summary.tables.map(\.name) == CatalogMigrationTable.all.map(\.name))
                for table in summary.tables {
                    #expect(table.sourceRows == table.targetRows, "\(table.name)")
                    #expect(table.copiedThisRun == table.sourceRows, "\(table.name)")
                }
                #expect(summary.tables.first { $0.name == "manifests" }?.targetRows == 42)
                #expect(summary.tables.allSatisfy { $0.sourceRows > 0 }, "the fixture fills every table: \(summary.tables.filter { $0.sourceRows == 0 }.map(\.name))")
                #expect(summary.sharedKeys == ["secret-hash", "token-es256"])
                for (name, value) in Self.keys { #expect(try await target.sharedKey(name, orStore: [1]) == value) }

                let before = try await Self.reads(Catalog(store), manifests: 40)
                let after = try await Self.reads(Catalog(target), manifests: 40)
                #expect(before.count == after.count)
                for (line, copied) in zip(before, after) { #expect(line == copied) }
                // The job lease of the SQLite process stays behind: a node takes it at once.
                #expect(try await target.acquireJobLock("gc", owner: "node-b", ttl: 60))

                // Serial ids continue after the copied ones.
                try await target.createRepository(repo("team/new"))
                try await target.appendAudit(AuditEvent(account: "root", accessKeyID: nil, sourceAddress: nil, action: "after"))
                let audit = try await target.auditEvents(AuditQuery())
                #expect(Set(audit.compactMap(\.id)).count == 4)
                let run = try await target.startJobRun(kind: "gc", owner: "node-b", dryRun: true)
                #expect(run > 1)
                try await target.putManifest(manifestRecord(9_999), references: [], in: repo("team/new"), tag: tag("fresh"))
                #expect(try await target.untaggedManifests(afterRowID: 0, createdBefore: Date().addingTimeInterval(60), limit: 100).count == 1)
            }
        }
    }

    @Test("Every table of either schema is copied, or named as left behind")
    func everyTableIsAccountedFor() async throws {
        try await Self.withSource(manifests: 1) { _, store in
            let sqlite = try await SQLiteCatalogExport(store).tableNames()
            let copied = Set(CatalogMigrationTable.all.map(\.name))
            #expect(sqlite.subtracting(copied) == Set(CatalogMigrationTable.notCopied.keys))
            try await Self.withTarget { target in
                let postgres = try await target.tableNames()
                #expect(postgres.subtracting(copied) == Set(CatalogMigrationTable.notCopied.keys).union(
                    ["kura_schema_migrations", "kura_shared_keys", CatalogMigration.progressTable]))
            }
        }
    }

    @Test("A target that holds anything is refused and left as it was; --force empties it and copies")
    func aNonEmptyTargetIsRefusedUnlessForced() async throws {
        try await Self.withSource(manifests: 4) { path, _ in
            try await Self.withTarget { target in
                // A node started on it: root exists, a repository too.
                try await target.createAccount(Account(name: "someone"))
                try await target.createRepository(repo("other/thing"))
                await #expect {
                    try await CatalogMigration(sourcePath: path, sharedKeys: [:], target: target).run()
                } throws: { error in
                    guard case .targetNotEmpty(let tables) = error as? CatalogMigrationError else { return false }
                    return tables == ["repositories", "accounts"]
                }
                #expect(try await target.account(named: "someone") != nil)
                #expect(try await target.repositories(after: nil, limit: 10) == [repo("other/thing")])
                #expect(try await target.migrationProgress().isEmpty)

                let forced = try await CatalogMigration(sourcePath: path, sharedKeys: [:], target: target, force: true).run()
                #expect(forced.replacedTarget)
                #expect(try await target.account(named: "someone") == nil)
                #expect(try await target.repositories(after: nil, limit: 10) == repos("team/app", "team/db", "team/old"))

                // A finished migration is not resumed: running again is refused too.
                await #expect(throws: CatalogMigrationError.self) {
                    try await CatalogMigration(sourcePath: path, sharedKeys: [:], target: target).run()
                }
            }
        }
    }

    @Test("A migration stopped between batches resumes where it stopped; another source cannot take it over")
    func anInterruptedMigrationResumes() async throws {
        try await Self.withSource(manifests: 60) { path, store in
            try await Self.withTarget { target in
                struct Stop: Error {}
                let migration = CatalogMigration(sourcePath: path, sharedKeys: Self.keys, target: target, batchSize: 8)
                await #expect(throws: Stop.self) {
                    try await migration.run { progress in
                        if progress.table == "manifests" && progress.copied >= 24 { throw Stop() }
                    }
                }
                let stopped = try await target.migrationProgress()
                #expect(stopped["repositories"]?.finished == true)
                #expect(stopped["manifests"]?.finished == false && stopped["manifests"]?.rowsCopied == 24)
                #expect(try await target.rowCount("manifests") == 24)
                #expect(try await target.rowCount("tags") == 0)

                // Another data folder's catalog cannot continue it.
                try await Self.withSource(manifests: 1) { otherPath, _ in
                    await #expect {
                        try await CatalogMigration(sourcePath: otherPath, sharedKeys: [:], target: target).run()
                    } throws: { error in
                        if case .otherSourceInProgress = error as? CatalogMigrationError { return true }
                        return false
                    }
                }

                let resumed = try await migration.run()
                #expect(resumed.resumed)
                let tables = Dictionary(uniqueKeysWithValues: resumed.tables.map { ($0.name, $0) })
                #expect(tables["repositories"]?.copiedThisRun == 0)
                let manifestsCopied = tables["manifests"]?.copiedThisRun ?? -1
                #expect(manifestsCopied == 38, "62 manifests, 24 copied before the stop")
                #expect(tables["tags"]?.copiedThisRun == 61)
                for table in resumed.tables { #expect(table.sourceRows == table.targetRows, "\(table.name)") }
                #expect(try await Self.reads(Catalog(store), manifests: 60) == Self.reads(Catalog(target), manifests: 60))
            }
        }
    }

    @Test("A missing SQLite catalog is a clear error, and nothing is created")
    func aMissingSourceIsAClearError() async throws {
        try await Self.withTarget { target in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-none-\(UUID().uuidString)/catalog.sqlite").path
            await #expect(throws: CatalogMigrationError.self) {
                try await CatalogMigration(sourcePath: path, sharedKeys: [:], target: target).run()
            }
            #expect(!FileManager.default.fileExists(atPath: path))
            let progress = try await target.migrationProgress()
            #expect(progress.isEmpty)
        }
    }
}
