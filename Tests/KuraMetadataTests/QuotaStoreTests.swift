import Foundation
import KuraCore
import KuraMetadata
import Testing

/// The quota is checked in the transaction that links: concurrent writers, even through two
/// handles on one database (two processes or nodes sharing the catalog), never pass it
/// together. Run against every catalog in ``CatalogFixture/shared``.
@Suite struct QuotaStoreTests {
    @Test(arguments: CatalogFixture.shared)
    func concurrentLinksThroughTwoStoresNeverExceedTheQuota(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            let catalogs = [made.catalog, try await reopen()]
            let stores = catalogs.map(\.quotas)
            let metadata = catalogs.map(\.metadata)
            try await stores[0].setQuota(namespace: "team", maxBytes: 500)

            // Twelve writes of 100 bytes each, blobs and manifests, alternating between the stores.
            let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for n in 1...12 {
                    group.addTask {
                        let store = stores[n % 2]
                        let repository = try repo(n % 3 == 0 ? "team/app" : "team/db")
                        do {
                            if n % 4 == 0 {
                                try await store.putManifestWithinQuota(manifestRecord(n, size: 100), references: [], in: repository, tag: nil)
                            } else {
                                try await store.linkBlobWithinQuota(digest(n), size: 100, in: repository)
                            }
                            return (n, true)
                        } catch let exceeded as QuotaExceeded {
                            #expect(exceeded.maxBytes == 500 && exceeded.projectedBytes > 500 && exceeded.storedBytes <= 500)
                            return (n, false)
                        }
                    }
                }
                return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            let admitted = outcomes.filter(\.value).map(\.key)
            #expect(admitted.count == 5, "\(outcomes.sorted { $0.key < $1.key })")
            #expect(try await stores[1].physicalBytes(namespace: "team", including: nil) == 500)
            // Exactly the admitted writes are in the catalog.
            for n in 1...12 {
                let repository = try repo(n % 3 == 0 ? "team/app" : "team/db")
                let stored =
                    n % 4 == 0
                    ? try await metadata[0].manifest(digest(n), in: repository) != nil
                    : try await metadata[0].blobLink(digest(n), in: repository) != nil
                #expect(stored == outcomes[n], "write \(n)")
            }
            // At the limit, content the namespace already holds still links (it adds nothing).
            let held = try #require(admitted.first { $0 % 4 != 0 })
            try await stores[1].linkBlobWithinQuota(digest(held), size: 100, in: repo("team/other"))
            #expect(try await metadata[0].blobLink(digest(held), in: repo("team/other")) != nil)
            // Other namespaces are not limited by it.
            try await stores[0].linkBlobWithinQuota(digest(99), size: 10_000, in: repo("elsewhere/app"))
        }
    }
}
