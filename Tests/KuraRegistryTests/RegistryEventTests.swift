import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import Logging
import NIOCore
import Synchronization
import KuraTestSupport
import Testing

/// The registry's operations, and its jobs, announce what they did to the sinks registered
/// with it: one ``RegistryEvent`` each, naming who asked.
@Suite struct RegistryEventTests {
    final class Recorder: RegistryEventSink {
        let events = Mutex<[RegistryEvent]>([])
        func receive(_ event: RegistryEvent) async { events.withLock { $0.append(event) } }
        var all: [RegistryEvent] { events.withLock { $0 } }
        func of(_ kind: RegistryEvent.Kind) -> [RegistryEvent] { all.filter { $0.kind == kind } }
    }

    private func withRegistry<T>(_ body: (Registry, SQLiteMetadataStore, Recorder) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-events-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let catalog = try SQLiteMetadataStore.inMemory()
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: path, durability: .none)), catalog: Catalog(catalog), logger: Logger(label: "test"))
        let recorder = Recorder()
        registry.events.register(recorder)
        return try await body(registry, catalog, recorder)
    }

    @Test func operationsAnnounceThemselvesAsTheActorsDoing() async throws {
        try await withRegistry { registry, _, recorder in
            let actor = RegistryEvent.Actor(account: "ci", accessKeyID: "KURAKEY", sourceAddress: "10.0.0.7")
            let app = try RepositoryName(parsing: "team/app")
            let digest = try await RegistryEvents.withActor(actor) {
                let digest = try await pushTestImage(registry, "team/app", tag: "v1", seed: "a")
                _ = try await registry.manifest(.tag(try Tag(parsing: "v1")), in: app)
                _ = try await registry.manifestRecord(.tag(try Tag(parsing: "v1")), in: app)  // a HEAD: no pull
                try await registry.deleteManifest(.tag(try Tag(parsing: "v1")), in: app)
                try await registry.deleteManifest(.digest(digest), in: app)
                return digest
            }
            let pushes = recorder.of(.manifestPush)
            #expect(pushes.count == 1 && pushes[0].reference == "v1" && pushes[0].digest == digest && pushes[0].actor == actor)
            #expect(pushes[0].namespace == "team" && pushes[0].repository == app)
            #expect(recorder.of(.manifestPull).map(\.digest) == [digest], "one GET, the HEAD is not a pull")
            #expect(recorder.of(.tagDelete).map(\.reference) == ["v1"])
            #expect(recorder.of(.manifestDelete).map(\.digest) == [digest])
            #expect(recorder.all.allSatisfy { $0.actor == actor })

            // Mounts and blob deletes too; outside a request there is no actor.
            let config = Array("{\"seed\":\"a\"}".utf8)
            let configDigest = ContentHasher.digest(.sha256, of: config)
            let other = try RepositoryName(parsing: "team/other")
            #expect(try await registry.mountBlob(configDigest, into: other, from: app) != nil)
            try await registry.deleteBlob(configDigest, in: other)
            #expect(recorder.of(.blobMount).map(\.detail) == ["team/app"])
            #expect(recorder.of(.blobDelete).map(\.digest) == [configDigest])
            #expect(recorder.of(.blobDelete).first?.actor == nil)
        }
    }

    @Test func refusedOperationsAnnounceNothing() async throws {
        try await withRegistry { registry, _, recorder in
            let app = try RepositoryName(parsing: "team/app")
            await #expect(throws: RegistryError.self) { try await registry.deleteManifest(.tag(try Tag(parsing: "nope")), in: app) }
            await #expect(throws: RegistryError.self) {
                _ = try await registry.putManifest(ByteBuffer(string: "{}"), contentType: MediaType.ociManifest, reference: .tag(try Tag(parsing: "x")), in: app)
            }
            #expect(recorder.all.isEmpty)
        }
    }

    @Test func retentionDeletionsAreEventsOfTheJob() async throws {
        try await withRegistry { registry, store, recorder in
            for (index, tag) in ["v1", "v2", "v3"].enumerated() {
                try await pushTestImage(registry, "team/app", tag: tag, seed: tag)
                if index < 2 { await Poll.nextMillisecond() }  // distinct push times
            }
            try await store.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 1))
            _ = try await RetentionEvaluator(registry: registry).run(dryRun: true)
            #expect(recorder.of(.retentionTagDelete).isEmpty && recorder.of(.jobRun).isEmpty, "a dry run deletes nothing, announces nothing")
            let decisions = try await RetentionEvaluator(registry: registry).run(dryRun: false)
            let deleted = recorder.of(.retentionTagDelete)
            #expect(Set(deleted.compactMap(\.reference)) == Set(decisions.map(\.tag)) && deleted.count == 2)
            #expect(deleted.allSatisfy { $0.job == "retention" && $0.actor == nil && $0.digest != nil && $0.detail == "policy team" })
            #expect(recorder.of(.jobRun).map(\.job) == ["retention"])
            #expect(recorder.of(.jobRun).first?.summary["tagsDeleted"] == 2)
        }
    }

    @Test func garbageCollectionDeletionsAreEventsOfTheJob() async throws {
        try await withRegistry { registry, _, recorder in
            let untagged = try await pushTestImage(registry, "team/app", tag: nil, seed: "loose")
            try await pushTestImage(registry, "team/app", tag: "kept", seed: "kept")
            var options = GarbageCollectionOptions()
            options.gracePeriod = 0
            options.deleteUntagged = true
            options.untaggedAge = 0
            options.dryRun = true
            _ = try await GarbageCollector(registry: registry, options: options).run()
            #expect(recorder.of(.collectedManifestDelete).isEmpty && recorder.of(.jobRun).isEmpty, "a dry run announces nothing")
            options.dryRun = false
            let summary = try await GarbageCollector(registry: registry, options: options).run()
            let deleted = recorder.of(.collectedManifestDelete)
            #expect(deleted.map(\.digest) == [untagged] && summary.manifestsDeleted == 1)
            #expect(deleted.first?.job == "gc" && deleted.first?.actor == nil && deleted.first?.repository?.value == "team/app")
            let runs = recorder.of(.jobRun)
            #expect(runs.map(\.job) == ["gc"] && runs.first?.summary["run"] == summary.runID)
            #expect(runs.first?.summary["manifestsDeleted"] == 1)
        }
    }
}
