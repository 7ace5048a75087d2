import Foundation
import KuraCore
import KuraMetadata
import KuraTestSupport
import Testing

/// The console's tag pages (by name and newest first, with a cursor), last pushes and last
/// pulls, on every catalog in ``CatalogFixture/all``.
@Suite struct TagHistoryConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func tagPagesByNameAndByPushTimeWithACursor(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let app = try repo("team/app")
            // Pushed in this order, each in a later millisecond: c, a, d, b; then a is pushed again.
            for (n, name) in ["c", "a", "d", "b", "a"].enumerated() {
                await Poll.nextMillisecond()
                try await catalog.metadata.putManifest(manifestRecord(n), references: [], in: app, tag: tag(name))
            }
            try await catalog.metadata.putManifest(manifestRecord(9), references: [], in: repo("team/other"), tag: tag("z"))
            let store = catalog.retention
            func page(_ order: TagOrder, after: TagPosition?, limit: Int) async throws -> [String] {
                try await store.tagRecords(in: app, order: order, after: after, limit: limit).map(\.tag.value)
            }
            #expect(try await page(.name, after: nil, limit: 10) == ["a", "b", "c", "d"])
            #expect(try await page(.newest, after: nil, limit: 10) == ["a", "b", "d", "c"])
            // Walk newest-first two at a time, each page after the last record of the one before.
            let first = try await store.tagRecords(in: app, order: .newest, after: nil, limit: 2)
            #expect(first.map(\.tag.value) == ["a", "b"])
            let cursor = try #require(first.last.map { TagPosition(tag: $0.tag.value, updatedAt: $0.updatedAt) })
            #expect(TagPosition(token: cursor.token) == cursor)
            #expect(try await page(.newest, after: cursor, limit: 2) == ["d", "c"])
            #expect(try await page(.name, after: TagPosition(tag: "b", updatedAt: Date()), limit: 10) == ["c", "d"])
            // A position at a push time leaves out only the tags before it by name at that time.
            let same = try #require(first.first?.updatedAt)
            #expect(try await page(.newest, after: TagPosition(tag: "", updatedAt: same), limit: 10) == ["a", "b", "d", "c"])
            #expect(try await page(.newest, after: TagPosition(tag: "a", updatedAt: same), limit: 10) == ["b", "d", "c"])
            #expect(try await page(.newest, after: nil, limit: 0).isEmpty)
            #expect(try await store.tagRecords(in: repo("team/none"), order: .newest, after: nil, limit: 5).isEmpty)

            let pushes = try await store.lastPushes(of: [app, try repo("team/other"), try repo("team/none")])
            #expect(pushes.count == 2)
            #expect(pushes[app] == first.first?.updatedAt)
            #expect(try await store.lastPushes(of: []).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func lastPullsAreTheLastHourWithAManifestPull(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let hour = Date(timeIntervalSince1970: 1_764_403_200)
            func bucket(_ at: Date, _ repository: String, _ kind: UsageKind) -> UsageBucket {
                UsageBucket(hour: at, namespace: "team", repository: repository, accessKeyID: "K", kind: kind)
            }
            try await catalog.usage.addUsage([
                bucket(hour, "team/app", .manifestPull): UsageCounts(calls: 1),
                bucket(hour.addingTimeInterval(7200), "team/app", .manifestPull): UsageCounts(calls: 1),
                // Later, but not pulls of a manifest.
                bucket(hour.addingTimeInterval(9 * 3600), "team/app", .blobPull): UsageCounts(calls: 1),
                bucket(hour.addingTimeInterval(9 * 3600), "team/app", .manifestPush): UsageCounts(calls: 1),
                bucket(hour.addingTimeInterval(3600), "team/db", .manifestPull): UsageCounts(calls: 4),
            ])
            let pulls = try await catalog.usage.lastPulls(of: [try repo("team/app"), try repo("team/db"), try repo("team/none")])
            #expect(pulls == [try repo("team/app"): hour.addingTimeInterval(7200), try repo("team/db"): hour.addingTimeInterval(3600)])
            #expect(try await catalog.usage.lastPulls(of: []).isEmpty)
        }
    }
}
