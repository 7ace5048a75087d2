import Foundation
import KuraCore
import KuraMetadata
import Testing

/// The usage and quota tables: hourly buckets add up, ranges select whole hours, and stored
/// bytes count a blob once per repository (logical) and once per namespace (physical). Run
/// against every catalog in ``CatalogFixture/all``.
@Suite struct UsageStoreTests {
    @Test(arguments: CatalogFixture.all)
    func bucketsAddUpAndRangesSelectHours(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.usage
            let hour = Date(timeIntervalSince1970: 1_764_403_200)  // 2025-11-29T08:00:00Z
            #expect(UsageBucket.hourStart(of: hour.addingTimeInterval(3599)) == hour)
            func bucket(_ at: Date, _ repository: String, _ key: String, _ kind: UsageKind) -> UsageBucket {
                UsageBucket(hour: at, namespace: "team", repository: repository, accessKeyID: key, kind: kind)
            }
            try await store.addUsage([
                bucket(hour, "team/app", "K1", .blobPull): UsageCounts(calls: 2, bytesOut: 100),
                bucket(hour, "team/app", "", .manifestPull): UsageCounts(calls: 1, bytesOut: 10),
                bucket(hour.addingTimeInterval(3600), "team/db", "K1", .blobPull): UsageCounts(calls: 1, bytesOut: 7),
            ])
            // A second flush into the same bucket adds to it.
            try await store.addUsage([bucket(hour, "team/app", "K1", .blobPull): UsageCounts(calls: 3, bytesIn: 1, bytesOut: 50)])
            try await store.addUsage([UsageBucket(hour: hour, namespace: "other", repository: "other/x", accessKeyID: "K2", kind: .blobPull): .init(calls: 9)])

            let firstHour = try await store.usage(UsageQuery(from: hour, to: hour.addingTimeInterval(3600), namespace: "team"))
            #expect(firstHour == [
                UsageRecord(namespace: "team", repository: nil, accessKeyID: nil, kind: .blobPull, counts: .init(calls: 5, bytesIn: 1, bytesOut: 150)),
                UsageRecord(namespace: "team", repository: nil, accessKeyID: nil, kind: .manifestPull, counts: .init(calls: 1, bytesOut: 10)),
            ])
            let byRepository = try await store.usage(
                UsageQuery(from: hour, to: hour.addingTimeInterval(7200), namespace: "team", grouping: .repository))
            #expect(byRepository.map { "\($0.repository ?? "-") \($0.kind.rawValue) \($0.counts.calls)" } == [
                "team/app blob_pull 5", "team/app manifest_pull 1", "team/db blob_pull 1",
            ])
            let byKey = try await store.usage(UsageQuery(from: hour, to: hour.addingTimeInterval(7200), grouping: .key))
            #expect(byKey.map { "\($0.namespace) \($0.accessKeyID ?? "-") \($0.kind.rawValue) \($0.counts.calls)" } == [
                "other K2 blob_pull 9", "team  manifest_pull 1", "team K1 blob_pull 6",
            ])
            #expect(try await store.usage(UsageQuery(from: hour.addingTimeInterval(7200), to: hour.addingTimeInterval(9000))).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func storedBytesDeduplicatePerNamespace(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let (store, usage, quotas) = (catalog.metadata, catalog.usage, catalog.quotas)
            // team/app and team/db share blob 1; other/x holds blob 1 as well; a namespace named
            // "team0" must not count as part of "team".
            try await store.linkBlob(digest(1), size: 100, in: repo("team/app"))
            try await store.linkBlob(digest(2), size: 20, in: repo("team/app"))
            try await store.linkBlob(digest(1), size: 100, in: repo("team/db"))
            try await store.linkBlob(digest(1), size: 100, in: repo("other/x"))
            try await store.linkBlob(digest(3), size: 5, in: repo("team0/y"))
            try await store.putManifest(manifestRecord(9, size: 7), references: [], in: repo("team/app"), tag: tag("v1"))

            let team = try #require(try await usage.storage(namespace: "team").first)
            #expect(team.physicalBytes == 127)
            #expect(team.repositories == [RepositoryStorage(repository: "team/app", logicalBytes: 127), RepositoryStorage(repository: "team/db", logicalBytes: 100)])
            #expect(team.logicalBytes == 227)
            #expect(try await usage.storage(namespace: nil).map(\.namespace) == ["other", "team", "team0"])
            #expect(try await usage.globalPhysicalBytes() == 132)

            #expect(try await quotas.physicalBytes(namespace: "team", including: nil) == 127)
            #expect(try await quotas.physicalBytes(namespace: "team", including: (digest(1), 100)) == 127, "already stored: adds nothing")
            #expect(try await quotas.physicalBytes(namespace: "team", including: (digest(3), 5)) == 132, "stored elsewhere only: counts")
            #expect(try await quotas.quota(namespace: "team") == nil)
            try await quotas.setQuota(namespace: "team", maxBytes: 1000)
            #expect(try await quotas.quota(namespace: "team") == 1000)
            try await quotas.setQuota(namespace: "team", maxBytes: nil)
            #expect(try await quotas.quota(namespace: "team") == nil)
        }
    }

    /// Two nodes flushing into the same buckets at once: every count lands.
    @Test(arguments: CatalogFixture.shared)
    func concurrentFlushesFromTwoNodesAddUp(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            let stores = [made.catalog.usage, try await reopen().usage]
            let hour = Date(timeIntervalSince1970: 1_764_403_200)
            let buckets = (0..<5).map { UsageBucket(hour: hour, namespace: "team", repository: "team/app\($0)", accessKeyID: "K", kind: .blobPull) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<20 {
                    group.addTask {
                        var counts: [UsageBucket: UsageCounts] = [:]
                        for bucket in buckets { counts[bucket] = UsageCounts(calls: 1, bytesOut: 10) }
                        try await stores[n % 2].addUsage(counts)
                    }
                }
                try await group.waitForAll()
            }
            let report = try await stores[0].usage(UsageQuery(from: hour, to: hour.addingTimeInterval(3600), grouping: .repository))
            #expect(report.map(\.counts) == Array(repeating: UsageCounts(calls: 20, bytesOut: 200), count: 5))
        }
    }
}
