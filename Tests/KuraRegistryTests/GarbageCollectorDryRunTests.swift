import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import NIOCore
import Testing

/// A dry run reports what the real run frees (issue 19: it reported 0 objects beside
/// 6 untagged manifests, because it could not see what deleting them would free).
@Suite("Garbage collection dry run")
struct GarbageCollectorDryRunTests {
    @Test func dryRunCountsWhatTheUntaggedManifestsItWouldDeleteHold() async throws {
        try await GCFixture.with { f in
            // Untagged: an image, and an index whose two children are untagged too.
            let lone = try await f.pushImage("app", tag: nil, config: bytes("{\"lone\":1}"), layers: [bytes("lone layer")])
            let c1 = try await f.pushImage("app", tag: nil, config: bytes("{\"arch\":1}"), layers: [bytes("amd64 layer")])
            let c2 = try await f.pushImage("app", tag: nil, config: bytes("{\"arch\":2}"), layers: [bytes("arm64 layer"), bytes("shared layer")])
            let index = GCManifests.index([c1, c2])
            _ = try await f.registry.putManifest(
                ByteBuffer(bytes: index), contentType: MediaType.ociIndex, reference: .digest(sha(index)), in: try f.name("app"))
            // Kept: a tagged image sharing a layer with an untagged one.
            try await f.pushImage("app", tag: "v1", config: bytes("{\"kept\":1}"), layers: [bytes("shared layer")])

            let dry = try await f.gc(dryRun: true, deleteUntagged: true)
            // lone, the index, then (next pass) its two children.
            #expect(dry.manifestsDeleted == 4)
            #expect(Set(dry.manifestsListed) == Set([lone.0, sha(index), c1.0, c2.0].map { "app@\($0)" }))
            // 4 manifests + lone's config and layer + c1's config and layer + c2's config and arm64 layer.
            #expect(dry.blobsFreed == 10)
            // Storage and catalog are untouched.
            try await f.pull("app", .digest(c2.0))
            try await f.pull("app", .digest(sha(index)))
            #expect(try await f.stored(sha(bytes("lone layer"))))

            let real = try await f.gc(deleteUntagged: true)
            #expect(real.manifestsDeleted == dry.manifestsDeleted)
            #expect(real.blobsFreed == dry.blobsFreed)
            #expect(real.bytesFreed == dry.bytesFreed)
            #expect(try await !f.stored(sha(bytes("lone layer"))))
            #expect(try await f.stored(sha(bytes("shared layer"))))
            try await f.pull("app", .tag(try Tag(parsing: "v1")))
        }
    }
}
