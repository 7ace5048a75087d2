import Foundation
import KuraCore
import KuraMetadata
@testable import KuraRegistry
import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

/// What a crash leaves in storage is reclaimed by `gc` with grace and upload expiry 0, and
/// what is live stays; catalog refusals never show the catalog's own words to clients.
@Suite("Crash debris")
struct CrashDebrisTests {
    @Test
    func gcWithZeroGraceReclaimsStagingSessionDataAndUnlinkedBlobs() async throws {
        try await GCFixture.with { fixture in
            let kept = try await fixture.pushImage("team/app", tag: "v1", config: Array("config".utf8), layers: [Array("layer".utf8)])
            let root = fixture.storageRoot
            let manager = FileManager.default
            // An interrupted put, an interrupted monolithic ingest, the data of a session
            // whose state is gone, and a blob stored but never linked.
            let temporary = "\(root)/.tmp/\(UUID().uuidString)"
            #expect(manager.createFile(atPath: temporary, contents: Data(repeating: 1, count: 100)))
            let staging = "\(root)/.append/uploads/\(UploadID().value)/data"
            try manager.createDirectory(atPath: (staging as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(manager.createFile(atPath: staging, contents: Data(repeating: 2, count: 200)))
            let orphanSession = UploadID().value
            _ = try await fixture.registry.blobs.backend.put(try ObjectKey("uploads/\(orphanSession)/tail-0"), bytes: ByteBuffer(bytes: [3, 3, 3]))
            let unlinked = try await fixture.registry.blobs.ingest(bytes: ByteBuffer(string: "never linked"))
            // A live session keeps its assembly.
            let live = try await fixture.registry.startUpload(in: try fixture.name("team/app"))
            _ = try await fixture.registry.appendUpload(
                live.id.value, in: try fixture.name("team/app"), start: 0, length: 4, body: SingleBufferSequence(buffer: ByteBuffer(string: "live")))

            // Debris is as old as the crash that left it: older than the upload expiry.
            let crash = Date().addingTimeInterval(-2 * 3600)
            for path in [temporary, staging, "\(root)/uploads/\(orphanSession)/tail-0"] {
                try manager.setAttributes([.modificationDate: crash], ofItemAtPath: path)
            }
            await Poll.nextMillisecond()  // the unlinked blob strictly before the zero-grace cutoff
            var options = GarbageCollectionOptions()
            options.gracePeriod = 0
            options.uploadExpiry = 3600
            let summary = try await GarbageCollector(registry: fixture.registry, options: options).run()

            #expect(!manager.fileExists(atPath: temporary))
            #expect(!manager.fileExists(atPath: staging))
            #expect(!manager.fileExists(atPath: "\(root)/uploads/\(orphanSession)/tail-0"))
            #expect(try await !fixture.stored(unlinked.digest))
            #expect(summary.unlinkedBlobsFreed == 1)
            #expect(summary.debrisFilesFreed == 3, "\(summary)")
            #expect(try await fixture.registry.uploadStatus(live.id.value, in: try fixture.name("team/app")).offset == 4)
            try await fixture.pull("team/app", .digest(kept.0))
        }
    }

    /// An object never linked is still taken through the collection protocol: while GC
    /// holds it, a push that deduplicated against it cannot link it, and once deleted the
    /// push finds it collected and gone, so the client uploads again. Before, the link went
    /// through to a deleted object (found by collectingWhilePushingAndPulling in a full run).
    @Test
    func unlinkedObjectIsCollectedThroughTheProtocolWithWriters() async throws {
        try await GCFixture.with { fixture in
            let content = Array("stored, never linked".utf8)
            let info = try await fixture.registry.blobs.ingest(bytes: ByteBuffer(bytes: content))
            let candidate = CatalogBlob(digest: info.digest, size: info.size)
            #expect(try await fixture.store.beginCollectingUnlinked([candidate]) == [info.digest])
            #expect(try await fixture.store.collectionState(info.digest) == .collecting)
            // A second run does not take it twice.
            #expect(try await fixture.store.beginCollectingUnlinked([candidate]).isEmpty)
            do {
                try await fixture.registry.catalog.metadata.linkBlob(info.digest, size: info.size, in: try fixture.name("team/app"))
                Issue.record("linking an object under collection was accepted")
            } catch {
                #expect(fixture.store.isCollectionConflict(error))
            }
            _ = try await fixture.registry.blobs.backend.delete(ObjectKey(blob: info.digest))
            try await fixture.store.finishCollecting([info.digest], failed: [])
            // The writer's half: linking after the deletion is refused as "upload again".
            let linked = try await fixture.registry.linkStoredBlob(info, in: try fixture.name("team/app"))
            #expect(!linked)
            #expect(try await fixture.registry.catalog.metadata.blobLink(info.digest, in: try fixture.name("team/app")) == nil)
            // A live digest is never taken.
            let live = try await fixture.pushBlob(Array("live".utf8), "team/app")
            #expect(try await fixture.store.beginCollectingUnlinked([CatalogBlob(digest: live, size: 4)]).isEmpty)
        }
    }

    @Test
    func collectionConflictDetailDoesNotExposeTheCatalog() async throws {
        try await GCFixture.with { fixture in
            let digest = try await fixture.pushBlob(Array("being collected".utf8), "team/app")
            _ = try await fixture.store.beginCollecting([digest], linkedBefore: Date().addingTimeInterval(3600))
            let other = try fixture.name("team/other")
            do {
                try await fixture.registry.storeManifestGuarded {
                    try await fixture.registry.catalog.metadata.linkBlob(digest, size: 15, in: other)
                }
                Issue.record("linking a blob under collection was accepted")
            } catch let error as RegistryError {
                #expect(error.code == .manifestBlobUnknown)
                let text = "\(error.message) \(error.detail ?? "")"
                #expect(!text.contains("SQLite") && !text.contains("kura-gc-conflict"), "\(text)")
            }
        }
    }
}
