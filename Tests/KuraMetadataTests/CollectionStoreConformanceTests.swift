import Foundation
import KuraCore
import KuraMetadata
import Testing

/// Garbage collection's half of the catalog: the job lease, runs, the garbage query and
/// the guards that refuse writers racing a collection, run against every catalog in
/// ``CatalogFixture/all``.
@Suite("GarbageCollectionStore conformance")
struct CollectionStoreConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func jobLeaseHasOneOwnerUntilItExpires(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.collection
            #expect(try await store.acquireJobLock("gc", owner: "node-1", ttl: 60))
            #expect(try await store.acquireJobLock("gc", owner: "node-2", ttl: 60) == false)
            #expect(try await store.acquireJobLock("gc", owner: "node-1", ttl: 60), "the owner renews")
            #expect(try await store.acquireJobLock("scrub", owner: "node-2", ttl: 60), "leases are per name")
            try await store.releaseJobLock("gc", owner: "node-2")  // not the owner: no effect
            #expect(try await store.acquireJobLock("gc", owner: "node-2", ttl: 60) == false)
            try await store.releaseJobLock("gc", owner: "node-1")
            #expect(try await store.acquireJobLock("gc", owner: "node-2", ttl: -1), "a released lease is free")
            #expect(try await store.acquireJobLock("gc", owner: "node-3", ttl: 60), "an expired lease is free")
        }
    }

    @Test(arguments: CatalogFixture.all)
    func jobRunsAreRecordedNewestFirst(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.collection
            let gc = try await store.startJobRun(kind: "gc", owner: "node-1", dryRun: false)
            let scrub = try await store.startJobRun(kind: "scrub", owner: "node-2", dryRun: true)
            try await store.finishJobRun(gc, summary: "{\"blobsFreed\":3}", error: nil)
            let runs = try await store.jobRuns(kind: nil, limit: 10)
            #expect(runs.map(\.id) == [scrub, gc])
            #expect(runs[0].dryRun && runs[0].finishedAt == nil && runs[0].owner == "node-2")
            #expect(runs[1].summary == "{\"blobsFreed\":3}" && runs[1].finishedAt != nil && !runs[1].dryRun)
            #expect(try await store.jobRuns(kind: "gc", limit: 10).map(\.id) == [gc])
            #expect(try await store.jobRuns(kind: nil, limit: 1).map(\.id) == [scrub])
        }
    }

    @Test(arguments: CatalogFixture.all)
    func garbageIsWhatNothingRefersToPastTheGracePeriod(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (metadata, store) = (catalog.metadata, catalog.collection)
            let app = try repo("team/app")
            try await metadata.linkBlob(digest(1), size: 10, in: app)  // referenced below
            try await metadata.linkBlob(digest(2), size: 20, in: app)  // garbage
            try await metadata.linkBlob(digest(3), size: 30, in: app)  // garbage
            try await metadata.putManifest(
                manifestRecord(100, size: 5), references: [.init(digest: digest(1), kind: .blob)], in: app, tag: tag("v1"))
            let later = Date().addingTimeInterval(60)
            #expect(try await store.garbageBlobs(after: nil, linkedBefore: later, limit: 10).map(\.digest) == [digest(2), digest(3)])
            #expect(try await store.garbageBlobs(after: digest(2), linkedBefore: later, limit: 10).map(\.digest) == [digest(3)])
            #expect(try await store.garbageBlobs(after: nil, linkedBefore: Date().addingTimeInterval(-60), limit: 10).isEmpty, "young links are kept")
            let totals = try await store.catalogBlobTotals()
            #expect(totals.count == 4 && totals.bytes == 65)
            #expect(try await store.liveDigests(among: [digest(1), digest(100), digest(7)]) == [digest(1), digest(100)])
            #expect(try await store.isManifest(digest(100)))
            #expect(try await store.isManifest(digest(1)) == false)

            // Step 1 takes only what is still garbage, and removes its links.
            let taken = try await store.beginCollecting([digest(1), digest(2)], linkedBefore: later)
            #expect(taken == [CatalogBlob(digest: digest(2), size: 20)])
            #expect(try await metadata.blobLink(digest(2), in: app) == nil)
            #expect(try await store.collectionState(digest(2)) == .collecting)
            #expect(try await store.collectionState(digest(1)) == .live)
            #expect(try await store.liveBlobs(after: nil, limit: 10).map(\.digest).contains(digest(2)) == false)

            // While collecting: linking is refused; a manifest referring to it too.
            do {
                try await metadata.linkBlob(digest(2), size: 20, in: app)
                Issue.record("a link to a blob being collected was accepted")
            } catch {
                #expect(store.isCollectionConflict(error), "\(error)")
            }
            try await store.finishCollecting([digest(2)], failed: [])
            #expect(try await store.collectionState(digest(2)) == .collected)
            do {
                try await metadata.putManifest(
                    manifestRecord(101), references: [.init(digest: digest(2), kind: .blob)], in: app, tag: nil)
                Issue.record("a manifest referring to a collected blob was accepted")
            } catch {
                #expect(store.isCollectionConflict(error), "\(error)")
            }
            #expect(try await metadata.manifest(digest(101), in: app) == nil, "the refused manifest left nothing")
            // Linking a collected digest is allowed; the writer then revives it.
            try await metadata.linkBlob(digest(2), size: 20, in: app)
            #expect(try await store.reviveCollectedBlob(digest(2)))
            #expect(try await store.collectionState(digest(2)) == .live)
            try await metadata.putManifest(manifestRecord(101), references: [.init(digest: digest(2), kind: .blob)], in: app, tag: nil)

            // A failed deletion goes back to live; recovery turns a dead run's `collecting` into `collected`.
            _ = try await store.beginCollecting([digest(3)], linkedBefore: later)
            try await store.finishCollecting([], failed: [digest(3)])
            #expect(try await store.collectionState(digest(3)) == .live)
            try await metadata.linkBlob(digest(4), size: 1, in: app)
            _ = try await store.beginCollecting([digest(4)], linkedBefore: later)
            try await store.recoverAndPurge(forgetBefore: Date().addingTimeInterval(-3600))
            #expect(try await store.collectionState(digest(4)) == .collected)
            try await store.recoverAndPurge(forgetBefore: Date().addingTimeInterval(3600))
            #expect(try await store.collectionState(digest(4)) == nil, "old collected digests are forgotten")
        }
    }

    /// A writer that stored a collected digest again (a manifest row, or a link) revives it
    /// after its catalog write; until then the digest is `collected` with a row referring to
    /// it. The unlinked-object pass must not take it back in that window: it would delete
    /// the object of an acknowledged manifest (found by `collectingWhilePushingAndPulling`:
    /// MANIFEST_UNKNOWN on a pull of a tag just pushed).
    @Test(arguments: CatalogFixture.all)
    func unlinkedPassLeavesACollectedDigestThatAWriterStoredAgain(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (metadata, store) = (catalog.metadata, catalog.collection)
            let app = try repo("team/app")
            for value in [60, 61, 62] {
                #expect(try await store.beginCollectingUnlinked([CatalogBlob(digest: digest(value), size: 6)]) == [digest(value)])
                try await store.finishCollecting([digest(value)], failed: [])
                #expect(try await store.collectionState(digest(value)) == .collected)
            }
            // The writers' catalog writes, before they revive.
            try await metadata.putManifest(manifestRecord(60, size: 6), references: [], in: app, tag: tag("v1"))
            try await metadata.linkBlob(digest(61), size: 6, in: app)
            let objects = [60, 61, 62].map { CatalogBlob(digest: digest($0), size: 6) }
            #expect(try await store.beginCollectingUnlinked(objects) == [digest(62)], "only the digest nothing stores again")
            #expect(try await store.reviveCollectedBlob(digest(60)))
            #expect(try await store.reviveCollectedBlob(digest(61)))
            #expect(try await store.collectionState(digest(62)) == .collecting)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func unlinkedObjectsAndLostBlobs(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (metadata, store) = (catalog.metadata, catalog.collection)
            let app = try repo("team/app")
            try await metadata.linkBlob(digest(1), size: 10, in: app)
            let taken = try await store.beginCollectingUnlinked([
                CatalogBlob(digest: digest(1), size: 10), CatalogBlob(digest: digest(9), size: 90),
            ])
            #expect(taken == [digest(9)], "a live digest is left alone")
            #expect(try await store.collectionState(digest(9)) == .collecting)
            #expect(try await store.beginCollectingUnlinked([CatalogBlob(digest: digest(9), size: 90)]).isEmpty)

            try await metadata.putManifest(manifestRecord(50), references: [.init(digest: digest(1), kind: .blob)], in: app, tag: tag("a"))
            #expect(try await store.forgetLostBlob(digest(50)) == false, "a manifest is left alone")
            #expect(try await store.forgetLostBlob(digest(1)))
            #expect(try await metadata.blobLink(digest(1), in: app) == nil)
            #expect(try await store.collectionState(digest(1)) == .collected)
            let dangling = try await store.danglingReferences(limit: 10)
            #expect(dangling == [DanglingReference(repository: "team/app", manifest: digest(50).description, child: digest(1).description, kind: "blob")])
        }
    }

    @Test(arguments: CatalogFixture.all)
    func untaggedManifestsAndOrphanedReferrers(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (metadata, store) = (catalog.metadata, catalog.collection)
            let app = try repo("team/app")
            let old = date(milliseconds: 1_000)
            // 1 tagged; 2 untagged; 3 an index child of 4 (untagged index); 5 a referrer of the missing 99.
            try await metadata.putManifest(manifestRecord(1, createdAt: old), references: [], in: app, tag: tag("v1"))
            try await metadata.putManifest(manifestRecord(2, createdAt: old), references: [], in: app, tag: nil)
            try await metadata.putManifest(manifestRecord(3, createdAt: old), references: [], in: app, tag: nil)
            try await metadata.putManifest(
                manifestRecord(4, createdAt: old), references: [.init(digest: digest(3), kind: .manifest)], in: app, tag: nil)
            try await metadata.putManifest(manifestRecord(5, subject: digest(99), createdAt: old), references: [], in: app, tag: nil)
            let cutoff = date(milliseconds: 2_000)
            let untagged = try await store.untaggedManifests(afterRowID: 0, createdBefore: cutoff, limit: 10)
            #expect(untagged.map(\.digest) == [digest(2), digest(4), digest(5)])
            #expect(try await store.untaggedManifests(afterRowID: 0, createdBefore: old, limit: 10).isEmpty, "younger than the cutoff")
            let page = try await store.untaggedManifests(afterRowID: untagged[0].rowID, createdBefore: cutoff, limit: 1)
            #expect(page.map(\.digest) == [digest(4)])
            #expect(try await store.orphanedReferrers(afterRowID: 0, createdBefore: cutoff, limit: 10).map(\.digest) == [digest(5)])
            #expect(try await store.untaggedManifest(digest(2), in: app)?.digest == digest(2))
            #expect(try await store.untaggedManifest(digest(1), in: app) == nil)

            // Tagged meanwhile: the conditional delete refuses.
            let two = untagged[0]
            try await metadata.putManifest(manifestRecord(2, createdAt: old), references: [], in: app, tag: tag("v2"))
            #expect(try await store.deleteManifestCandidate(two, createdBefore: cutoff) == false)
            #expect(try await metadata.manifest(digest(2), in: app) != nil)

            // The index goes, then its child; an index PUT validated before that is refused.
            #expect(try await store.deleteManifestCandidate(untagged[1], createdBefore: cutoff))
            let three = try #require(try await store.untaggedManifests(afterRowID: 0, createdBefore: cutoff, limit: 10).first { $0.digest == digest(3) })
            #expect(try await store.deleteManifestCandidate(three, createdBefore: cutoff))
            do {
                try await metadata.putManifest(manifestRecord(6), references: [.init(digest: digest(3), kind: .manifest)], in: app, tag: tag("idx"))
                Issue.record("an index referring to a collected manifest was accepted")
            } catch {
                #expect(store.isCollectionConflict(error), "\(error)")
            }
            // Pushing the child again clears the mark.
            try await metadata.putManifest(manifestRecord(3), references: [], in: app, tag: nil)
            try await metadata.putManifest(manifestRecord(6), references: [.init(digest: digest(3), kind: .manifest)], in: app, tag: tag("idx"))
        }
    }

    @Test(arguments: CatalogFixture.all)
    func aScratchCopyChangesWithoutTouchingTheCatalog(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (metadata, store) = (catalog.metadata, catalog.collection)
            let app = try repo("team/app")
            try await metadata.linkBlob(digest(1), size: 10, in: app)
            try await metadata.putManifest(
                manifestRecord(2, createdAt: date(milliseconds: 1)), references: [.init(digest: digest(1), kind: .blob)], in: app, tag: nil)
            let scratch = try await store.scratchCopy()
            let candidate = try #require(try await scratch.untaggedManifests(afterRowID: 0, createdBefore: Date(), limit: 10).first)
            #expect(try await scratch.deleteManifestCandidate(candidate, createdBefore: Date()))
            let later = Date().addingTimeInterval(60)
            // The manifest's blob, and the manifest's own object, are garbage there now.
            #expect(try await scratch.garbageBlobs(after: nil, linkedBefore: later, limit: 10).map(\.digest) == [digest(1), digest(2)])
            #expect(try await scratch.beginCollecting([digest(1)], linkedBefore: later).count == 1)
            // The catalog itself is as it was.
            #expect(try await metadata.manifest(digest(2), in: app) != nil)
            #expect(try await metadata.blobLink(digest(1), in: app) != nil)
            #expect(try await store.collectionState(digest(1)) == .live)
            #expect(try await store.garbageBlobs(after: nil, linkedBefore: later, limit: 10).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func uploadRecordsOlderThanACutoff(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            try await catalog.metadata.createUpload("u1", in: repo("team/app"))
            try await catalog.metadata.createUpload("u2", in: repo("team/db"))
            let records = try await catalog.collection.uploadRecords(createdBefore: Date().addingTimeInterval(1), limit: 10)
            #expect(records.map(\.id) == ["u1", "u2"])
            #expect(try await catalog.collection.uploadRecords(createdBefore: Date().addingTimeInterval(-60), limit: 10).isEmpty)
            #expect(try await catalog.usage.openUploadCount() == 2)
        }
    }

    /// GC and writers on two handles of one database (two nodes): every push either
    /// commits before GC's re-check (and keeps its blob) or is refused; no manifest ever
    /// refers to a blob GC took.
    @Test(arguments: CatalogFixture.shared)
    func collectionRacingWritersOnAnotherNodeNeverLeavesAManifestDangling(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            let gc = made.catalog.collection
            let writer = try await reopen()
            let app = try repo("team/app")
            let count = 40
            for n in 0..<count { try await made.catalog.metadata.linkBlob(digest(n), size: 1, in: app) }
            let later = Date().addingTimeInterval(60)
            async let collecting: [CatalogBlob] = gc.beginCollecting((0..<count).map(digest), linkedBefore: later)
            let pushed = try await withThrowingTaskGroup(of: Int?.self) { group in
                for n in 0..<count {
                    group.addTask {
                        do {
                            try await writer.metadata.putManifest(
                                manifestRecord(1_000 + n), references: [.init(digest: digest(n), kind: .blob)], in: app, tag: tag("t\(n)"))
                            return n
                        } catch where writer.collection.isCollectionConflict(error) {
                            return nil
                        }
                    }
                }
                return try await group.reduce(into: Set<Int>()) { if let n = $1 { $0.insert(n) } }
            }
            let taken = Set(try await collecting.map(\.digest))
            for n in 0..<count {
                #expect(!(pushed.contains(n) && taken.contains(digest(n))), "blob \(n) both referenced and collected")
                #expect(pushed.contains(n) || taken.contains(digest(n)), "blob \(n): the push failed though GC kept the blob")
            }
            #expect(try await gc.danglingReferences(limit: 100).isEmpty)
        }
    }
}
