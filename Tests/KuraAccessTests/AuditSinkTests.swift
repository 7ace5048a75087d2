import Foundation
import KuraAccess
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import Logging
import NIOCore
import KuraTestSupport
import Testing

/// The audit sink turns registry events into audit records: a client's pushes and deletes
/// with its account, and the deletions of retention and garbage collection with none.
@Suite struct AuditSinkTests {
    private func withAuditedRegistry<T>(_ body: (Registry, SQLiteMetadataStore) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let catalog = try SQLiteMetadataStore(path: "\(path)/catalog.sqlite")
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: "\(path)/storage", durability: .none)), catalog: Catalog(catalog), logger: Logger(label: "test"))
        let (access, _) = try await AccessBootstrap.open(dataDirectory: path, store: catalog, logger: Logger(label: "test"))
        registry.events.register(AuditSink(access: access))
        return try await body(registry, catalog)
    }

    @Test func clientChangesAreAuditedWithTheirAccount() async throws {
        try await withAuditedRegistry { registry, catalog in
            let actor = RegistryEvent.Actor(account: "ci", accessKeyID: "KURACI", sourceAddress: "10.1.2.3")
            let digest = try await RegistryEvents.withActor(actor) {
                let digest = try await pushTestImage(registry, "team/app", tag: "v1", seed: "one")
                try await registry.deleteManifest(.tag(try Tag(parsing: "v1")), in: try RepositoryName(parsing: "team/app"))
                return digest
            }
            let pushes = try await catalog.auditEvents(AuditQuery(action: "manifest.push"))
            #expect(pushes.count == 1)
            #expect(pushes.first?.account == "ci" && pushes.first?.accessKeyID == "KURACI" && pushes.first?.sourceAddress == "10.1.2.3")
            #expect(pushes.first?.detail == "v1 \(digest)" && pushes.first?.namespace == "team" && pushes.first?.repository == "team/app")
            let deletes = try await catalog.auditEvents(AuditQuery(action: "tag.delete"))
            #expect(deletes.map(\.detail) == ["v1"] && deletes.first?.account == "ci")
        }
    }

    @Test func retentionAndCollectionDeletionsAreAudited() async throws {
        try await withAuditedRegistry { registry, catalog in
            let old = try await pushTestImage(registry, "team/app", tag: "old", seed: "old")
            await Poll.nextMillisecond()  // distinct push times
            try await pushTestImage(registry, "team/app", tag: "new", seed: "new")
            try await catalog.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 1))
            #expect(try await RetentionEvaluator(registry: registry).run(dryRun: false).map(\.tag) == ["old"])
            let retention = try await catalog.auditEvents(AuditQuery(action: "retention.tag.delete"))
            #expect(retention.count == 1)
            #expect(retention.first?.account == nil && retention.first?.repository == "team/app")
            #expect(retention.first?.detail == "old \(old) policy team")

            // Retention deletes the manifest it untagged too.
            let untagged = try await catalog.auditEvents(AuditQuery(action: "retention.manifest.delete"))
            #expect(untagged.map(\.detail) == ["\(old) untagged by policy team"] && untagged.first?.account == nil)

            let loose = try await pushTestImage(registry, "team/app", tag: nil, seed: "loose")
            var options = GarbageCollectionOptions()
            options.gracePeriod = 0
            options.deleteUntagged = true
            options.untaggedAge = 0
            #expect(try await GarbageCollector(registry: registry, options: options).run().manifestsDeleted == 1)
            let collected = try await catalog.auditEvents(AuditQuery(action: "gc.manifest.delete"))
            #expect(collected.count == 1)
            #expect(collected.first?.account == nil && collected.first?.detail == "\(loose) untagged")
        }
    }

    @Test func pullsMountsAndJobRunsAreNotAudited() async throws {
        try await withAuditedRegistry { registry, catalog in
            try await pushTestImage(registry, "team/app", tag: "v1", seed: "x")
            let before = try await catalog.auditEvents(AuditQuery()).count
            _ = try await registry.manifest(.tag(try Tag(parsing: "v1")), in: try RepositoryName(parsing: "team/app"))
            var options = GarbageCollectionOptions()
            options.gracePeriod = 0
            _ = try await GarbageCollector(registry: registry, options: options).run()
            #expect(try await catalog.auditEvents(AuditQuery()).count == before)
        }
    }
}
