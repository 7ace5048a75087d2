import Foundation
import KuraCore
import KuraMetadata
import KuraTestSupport
import KuraRegistry
import KuraScan
import KuraStorage
import Logging
import NIOCore
import Synchronization
import Testing

/// The scan service over a real Registry and SQLite catalog: scan on push through the event
/// sink and the background worker, stored results, re-matching after an import without
/// layer reads, failed scans of bad layers, the pull policy and the scan event.
@Suite struct ScanServiceTests {
    let repository = try! RepositoryName(parsing: "team/app")

    static var debianImage: [[String: LayerFile]] {
        [["etc/os-release": .text(PackageSamples.debianOSRelease),
          "var/lib/dpkg/status": .text(PackageSamples.dpkgStanza("libssl3", "3.0.9-1", source: "openssl"))]]
    }

    /// An advisory database holding only the named fixtures (from `Fixtures/osv/debian`).
    static func database(_ names: [String], folder: URL) async throws -> AdvisoryDatabase {
        let database = try AdvisoryDatabase(path: folder.appendingPathComponent("advisories.sqlite").path)
        try await importFixtures(names, into: database, folder: folder)
        return database
    }

    static func importFixtures(_ names: [String], into database: AdvisoryDatabase, folder: URL) async throws {
        let batch = folder.appendingPathComponent("osv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: batch, withIntermediateDirectories: true)
        for name in names {
            try FileManager.default.copyItem(
                at: Fixtures.osv.appendingPathComponent("debian/\(name).json"), to: batch.appendingPathComponent("\(name).json"))
        }
        try await database.importAdvisories(from: batch)
    }

    func service(_ test: TestRegistry, _ database: AdvisoryDatabase) -> ScanService {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return ScanService(registry: test.registry, store: test.catalog, scanner: ImageScanner(database: database), logger: logger)
    }

    /// Waits (polling the catalog) until `manifest` has a stored result.
    func waitForResult(_ manifest: Digest, in store: any ScanStore) async throws -> ScanRecord {
        try await Poll.until("a scan result for \(manifest)") { try await store.scan(of: manifest) }
    }

    @Test func aPushQueuesAScanThatTheWorkerRunsWithoutThePushWaiting() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let service = service(test, try await Self.database(["DEBIAN-CVE-2023-5363"], folder: folder))
            test.registry.events.register(ScanOnPushSink(service: service))

            // No worker runs yet: the push completes all the same, and nothing is scanned.
            let pushed = try await test.pushImage(Self.debianImage, in: repository, tag: "v1")
            #expect(try await test.catalog.scan(of: pushed.digest) == nil)
            #expect(test.backend.keysRead.isEmpty)

            let worker = Task { await service.run() }
            defer { worker.cancel() }
            let record = try await waitForResult(pushed.digest, in: test.catalog)
            #expect(record.status == .succeeded)
            #expect(record.repository == "team/app")
            let report = try #require(try StoredScan(record).report)
            #expect(report.findings.map(\.advisoryID) == ["DEBIAN-CVE-2023-5363"])
            #expect(report.findings.first?.fixedVersion == "3.0.11-1~deb12u2")
            #expect(report.summary.high == 1)
            #expect(record.databaseImport == 1)
        }
    }

    @Test func anImagePushedAgainElsewhereIsNotReadAgain() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let service = service(test, try await Self.database(["DEBIAN-CVE-2023-5363"], folder: folder))
            test.registry.events.register(ScanOnPushSink(service: service))
            let worker = Task { await service.run() }
            defer { worker.cancel() }
            let layer = try await TestImage.pack(Self.debianImage[0], compression: .gzip, in: folder)
            let layerKey = ObjectKey(blob: ContentHasher.digest(.sha256, of: layer))
            let first = try await test.pushImage(layerBlobs: [layer], in: repository, tag: "v1")
            _ = try await waitForResult(first.digest, in: test.catalog)
            #expect(test.backend.keysRead.filter { $0 == layerKey }.count == 1)

            // The same image in another repository, then a different one: the worker takes
            // them in order (one at a time), so once the second has its result the first was handled.
            let copy = try await test.pushImage(layerBlobs: [layer], in: try RepositoryName(parsing: "team/copy"), tag: "v1")
            #expect(copy.digest == first.digest)
            let other = try await test.pushImage([["etc/other": .text("x")]], in: repository, tag: "v2")
            _ = try await waitForResult(other.digest, in: test.catalog)
            #expect(test.backend.keysRead.filter { $0 == layerKey }.count == 1)
            #expect(try await test.catalog.scan(of: first.digest)?.status == .succeeded)
        }
    }

    @Test func anImportUpdatesStoredResultsWithoutReadingALayer() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let database = try await Self.database(["DEBIAN-CVE-2023-5363"], folder: folder)
            let service = service(test, database)
            let pushed = try await test.pushImage(Self.debianImage, in: repository, tag: "v1")
            let first = try #require(try await service.scan(.digest(pushed.digest), in: repository).first)
            #expect(try StoredScan(first).report?.findings.count == 1)
            let readsAfterScan = test.backend.keysRead.count
            #expect(readsAfterScan >= 2)  // the manifest and the layer

            try await Self.importFixtures(["DSA-5532-1"], into: database, folder: folder)
            let summary = try await service.rematchStored()
            #expect(summary.rematched == 1 && summary.changed == 1)
            #expect(test.backend.keysRead.count == readsAfterScan, "re-matching read \(test.backend.keysRead.dropFirst(readsAfterScan))")
            let updated = try #require(try await service.result(of: pushed.digest))
            #expect(Set(updated.report?.findings.map(\.advisoryID) ?? []) == ["DEBIAN-CVE-2023-5363", "DSA-5532-1"])
            #expect(updated.record.databaseImport == 2)

            // Already matched against the latest import: nothing to do.
            let again = try await service.rematchStored()
            #expect(again.rematched == 0 && again.current == 1)
        }
    }

    @Test func badLayersAreRecordedAsFailedScansAndTheRegistryIsUnaffected() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let service = service(test, try await Self.database(["DEBIAN-CVE-2023-5363"], folder: folder))
            let junk = [UInt8](repeating: 0x55, count: 4096)
            let whole = try await TestImage.pack(["etc/data": .bytes((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })], compression: .gzip, in: folder)
            let truncated = Array(whole.prefix(whole.count / 2))
            let deep = (0..<300).map { _ in "d" }.joined(separator: "/") + "/file"
            let bomb = try await TestImage.pack([deep: .text("deep")], compression: .gzip, in: folder)
            let cases: [(String, [UInt8], String)] = [
                ("not-a-tar", junk, "not a tar archive"), ("truncated", truncated, "truncated compressed stream"), ("bomb", bomb, "limit exceeded"),
            ]
            for (tag, layer, expected) in cases {
                let pushed = try await test.pushImage(layerBlobs: [layer], in: repository, tag: tag)
                let records = try await service.scan(.digest(pushed.digest), in: repository)
                #expect(records.count == 1)
                let stored = try #require(try await test.catalog.scan(of: pushed.digest))
                #expect(stored.status == .failed, "\(tag)")
                #expect(stored.reason?.contains(expected) == true, "\(tag): \(stored.reason ?? "no reason")")
                #expect(stored.report == nil)
                // The registry still serves the image and its layer, byte for byte.
                let (record, _) = try await test.registry.manifest(try Reference(parsing: tag), in: repository)
                #expect(record.digest == pushed.digest)
                var served: [UInt8] = []
                for try await chunk in try await test.registry.readBlob(ContentHasher.digest(.sha256, of: layer), in: repository, range: nil).body {
                    served += Array(chunk.readableBytesView)
                }
                #expect(served == layer)
            }
            // A good image after them scans as ever.
            let good = try await test.pushImage(Self.debianImage, in: repository, tag: "good")
            #expect(try await service.scan(.digest(good.digest), in: repository).first?.status == .succeeded)
        }
    }

    /// Regression: an image without layers crashed the collector (it started layer 0).
    @Test func anImageWithoutLayersScansToNoPackages() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let service = service(test, try AdvisoryDatabase.inMemory())
            let empty = try await test.pushImage(layerBlobs: [], in: repository, tag: "empty")
            let record = try #require(try await service.scan(.digest(empty.digest), in: repository).first)
            #expect(record.status == .succeeded)
            #expect(try StoredScan(record).report?.packages.isEmpty == true)
        }
    }

    @Test func anArtifactIsRecordedAsUnsupported() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let service = service(test, try AdvisoryDatabase.inMemory())
            let chart = try await test.pushImage([["chart.yaml": .text("name: x")]], in: repository, tag: "chart",
                                                 configType: "application/vnd.cncf.helm.config.v1+json")
            let record = try #require(try await service.scan(.digest(chart.digest), in: repository).first)
            #expect(record.status == .unsupported)
            #expect(record.reason?.contains("helm") == true)
        }
    }

    @Test func thePullPolicyRefusesFindingsAtItsSeverityUnlessAllowListed() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let service = service(test, try await Self.database(["DEBIAN-CVE-2023-5363", "DSA-5532-1"], folder: folder))
            let policy = ScanPullPolicy(store: test.catalog)
            test.registry.pullChecks.register(policy)
            let pushed = try await test.pushImage(Self.debianImage, in: repository, tag: "v1")
            _ = try await service.scan(.digest(pushed.digest), in: repository)
            let v1 = try Reference(parsing: "v1")

            // Off by default.
            _ = try await test.registry.manifest(v1, in: repository)

            try await test.catalog.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "HIGH", allowList: []))
            policy.invalidate()
            do {
                _ = try await test.registry.manifest(v1, in: repository)
                Issue.record("the pull was not refused")
            } catch let error as RegistryError {
                #expect(error.code == .denied)
                #expect(error.httpStatus == 403)
                #expect(error.message.contains("1 finding at HIGH"), "\(error.message)")
                #expect(error.message.contains("DEBIAN-CVE-2023-5363"), "\(error.message)")
            }
            // HEAD-style reads of the record and the scanner's own reads pass.
            _ = try await test.registry.manifestRecord(v1, in: repository)
            _ = try await test.registry.manifest(v1, in: repository, announce: false)

            // At CRITICAL the HIGH finding does not count.
            try await test.catalog.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "CRITICAL", allowList: []))
            policy.invalidate()
            _ = try await test.registry.manifest(v1, in: repository)

            // Allow-listed by its CVE alias.
            try await test.catalog.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "HIGH", allowList: ["CVE-2023-5363"]))
            policy.invalidate()
            _ = try await test.registry.manifest(v1, in: repository)

            // Another namespace has no policy.
            let other = try RepositoryName(parsing: "other/app")
            let otherImage = try await test.pushImage(Self.debianImage, in: other, tag: "v1")
            _ = try await service.scan(.digest(otherImage.digest), in: other)
            try await test.catalog.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "LOW", allowList: []))
            policy.invalidate()
            _ = try await test.registry.manifest(v1, in: other)
        }
    }

    @Test func eachScanIsAnnouncedWithItsSummary() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let events = CollectingSink()
            test.registry.events.register(events)
            let service = service(test, try await Self.database(["DEBIAN-CVE-2023-5363"], folder: folder))
            let pushed = try await test.pushImage(Self.debianImage, in: repository, tag: "v1")
            let failed = try await test.pushImage(layerBlobs: [[UInt8](repeating: 1, count: 1024)], in: repository, tag: "bad")
            _ = try await service.scan(.digest(pushed.digest), in: repository)
            _ = try await service.scan(.digest(failed.digest), in: repository)
            let scans = events.events.filter { $0.kind == .scanCompleted }
            #expect(scans.count == 2)
            #expect(scans.first?.digest == pushed.digest && scans.first?.repository == repository)
            #expect(scans.first?.summary["high"] == 1 && scans.first?.summary["total"] == 1)
            #expect(scans.last?.detail?.hasPrefix("failed: ") == true)
        }
    }
}

final class CollectingSink: RegistryEventSink {
    private let received = Mutex<[RegistryEvent]>([])
    var events: [RegistryEvent] { received.withLock { $0 } }
    func receive(_ event: RegistryEvent) async { received.withLock { $0.append(event) } }
}
