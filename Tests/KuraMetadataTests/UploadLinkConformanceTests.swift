import Foundation
import KuraCore
import KuraMetadata
import Testing

/// ``QuotaStore/linkUploadedBlobWithinQuota(_:size:in:endingUpload:)``: the end of an upload
/// in one catalog write. Run against every catalog.
@Suite struct UploadLinkConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func linkingEndsTheSessionAndReportsTheCollectionState(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (metadata, quotas, collection) = (catalog.metadata, catalog.quotas, catalog.collection)
            let app = try repo("team/app")
            try await metadata.createUpload("u1", in: app)
            try await metadata.createUpload("u2", in: app)
            #expect(try await quotas.linkUploadedBlobWithinQuota(digest(1), size: 10, in: app, endingUpload: "u1") == .live)
            #expect(try await metadata.blobLink(digest(1), in: app) != nil)
            #expect(try await metadata.upload("u1") == nil)
            #expect(try await metadata.upload("u2")?.repository == app, "only the named session ends")

            // A collected digest links (the writer stored it again) and says so, to be revived.
            try await metadata.linkBlob(digest(2), size: 20, in: app)
            let later = Date().addingTimeInterval(60)
            #expect(try await collection.beginCollecting([digest(2)], linkedBefore: later).map(\.digest) == [digest(2)])
            try await collection.finishCollecting([digest(2)], failed: [])
            #expect(try await quotas.linkUploadedBlobWithinQuota(digest(2), size: 20, in: app, endingUpload: "u2") == .collected)
            #expect(try await metadata.upload("u2") == nil)

            // Refused while being collected: nothing changes, the session's row included.
            try await metadata.createUpload("u3", in: app)
            try await metadata.linkBlob(digest(3), size: 30, in: app)
            _ = try await collection.beginCollecting([digest(3)], linkedBefore: later)
            do {
                _ = try await quotas.linkUploadedBlobWithinQuota(digest(3), size: 30, in: app, endingUpload: "u3")
                Issue.record("a link to a blob being collected was accepted")
            } catch {
                #expect(collection.isCollectionConflict(error), "\(error)")
            }
            #expect(try await metadata.upload("u3") != nil)
            #expect(try await metadata.blobLink(digest(3), in: app) == nil)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func overTheQuotaNothingChanges(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (metadata, quotas) = (catalog.metadata, catalog.quotas)
            let app = try repo("team/app")
            try await quotas.setQuota(namespace: "team", maxBytes: 100)
            try await metadata.createUpload("u1", in: app)
            await #expect(throws: QuotaExceeded.self) {
                try await quotas.linkUploadedBlobWithinQuota(digest(1), size: 101, in: app, endingUpload: "u1")
            }
            #expect(try await metadata.upload("u1") != nil)
            #expect(try await metadata.blobLink(digest(1), in: app) == nil)
            #expect(try await quotas.linkUploadedBlobWithinQuota(digest(1), size: 100, in: app, endingUpload: "u1") == .live)
            #expect(try await quotas.physicalBytes(namespace: "team", including: nil) == 100)
        }
    }
}
