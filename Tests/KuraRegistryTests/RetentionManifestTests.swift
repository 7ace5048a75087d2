import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

/// Retention deletes the manifests whose last tag it removed, when nothing else holds them,
/// so the next GC frees their blobs with its default options (issue 19: with the defaults —
/// untagged manifests kept — the next GC freed nothing).
@Suite("Retention and GC")
struct RetentionManifestTests {
    @Test func retentionDeletesUntaggedManifestsAndGCFreesTheirBlobs() async throws {
        try await GCFixture.with { f in
            let old1 = try await f.pushImage("team/app", tag: "v1", config: bytes("{\"v\":1}"), layers: [bytes("layer one")])
            await Poll.nextMillisecond()
            // v2's manifest is also tagged "stable", which the policy keeps by pattern.
            let old2 = try await f.pushImage("team/app", tag: "v2", config: bytes("{\"v\":2}"), layers: [bytes("layer two")])
            await Poll.nextMillisecond()
            _ = try await f.registry.putManifest(
                ByteBuffer(bytes: GCManifests.image(config: bytes("{\"v\":2}"), layers: [bytes("layer two")])),
                contentType: MediaType.ociManifest, reference: .tag(try Tag(parsing: "stable-2")), in: try f.name("team/app"))
            await Poll.nextMillisecond()
            try await f.pushImage("team/app", tag: "v3", config: bytes("{\"v\":3}"), layers: [bytes("layer three")])
            let retention = f.registry.catalog.retention
            try await retention.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 1, keepPattern: "stable-.*"))

            let preview = try await RetentionEvaluator(registry: f.registry).run(dryRun: true)
            #expect(preview.map(\.tag).sorted() == ["v1", "v2"])
            #expect(preview.first { $0.tag == "v1" }?.manifestDeleted == true)
            #expect(preview.first { $0.tag == "v2" }?.manifestDeleted == false, "stable-2 keeps v2's manifest")
            try await f.pull("team/app", .digest(old1.0))

            let decisions = try await RetentionEvaluator(registry: f.registry).run(dryRun: false)
            #expect(decisions.filter(\.manifestDeleted).map(\.tag) == ["v1"])
            await #expect(throws: RegistryError.self) { _ = try await f.registry.manifest(.digest(old1.0), in: try f.name("team/app")) }
            try await f.pull("team/app", .digest(old2.0))
            let runs = try await f.store.jobRuns(kind: "retention", limit: 1)
            #expect(runs.first?.summary?.contains("\"manifestsDeleted\":1") == true)

            // GC with its defaults (untagged manifests kept) frees v1's manifest, config and
            // layer once the grace period is over (0 here).
            let summary = try await f.gc()
            #expect(summary.manifestsDeleted == 0)
            #expect(summary.blobsFreed == 3)
            #expect(try await !f.stored(sha(bytes("layer one"))))
            #expect(try await f.stored(sha(bytes("layer two"))))
            // With the default grace period (24 h) nothing is freed yet.
            await Poll.nextMillisecond()
            try await f.pushImage("team/app", tag: "v4", config: bytes("{\"v\":4}"), layers: [bytes("layer four")])
            #expect(try await RetentionEvaluator(registry: f.registry).run(dryRun: false).map(\.tag) == ["v3"])
            #expect(try await f.gc(grace: 24 * 3600).blobsFreed == 0)
            #expect(try await f.stored(sha(bytes("layer three"))))
        }
    }

    @Test func anIndexChildKeptByATaggedIndexStays() async throws {
        try await GCFixture.with { f in
            let child = try await f.pushImage("team/multi", tag: "child", config: bytes("{\"c\":1}"), layers: [bytes("child layer")])
            await Poll.nextMillisecond()
            let index = GCManifests.index([child])
            _ = try await f.registry.putManifest(
                ByteBuffer(bytes: index), contentType: MediaType.ociIndex, reference: .tag(try Tag(parsing: "latest")), in: try f.name("team/multi"))
            let retention = f.registry.catalog.retention
            try await retention.setRetentionPolicy(RetentionPolicy(scope: "team/multi", keepLast: 1))
            let decisions = try await RetentionEvaluator(registry: f.registry).run(dryRun: false)
            #expect(decisions.map(\.tag) == ["child"])
            #expect(decisions.first?.manifestDeleted == false)
            try await f.pull("team/multi", .tag(try Tag(parsing: "latest")))
        }
    }
}
