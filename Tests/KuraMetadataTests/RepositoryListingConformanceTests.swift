import Foundation
import KuraCore
import KuraMetadata
import Testing

/// The console's per-page listings — a namespace's repositories filtered and paged, their tag
/// counts, logical bytes and short descriptions, repository counts per namespace — on every
/// catalog in ``CatalogFixture/all``.
@Suite struct RepositoryListingConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func repositoriesOfANamespaceFilteredAndPaged(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            // `team` itself, `team/…`, and neighbours whose names start like it but are not in it.
            for name in ["team", "team/web", "team/api", "team/db/replica", "teams/x", "team-b/y", "other/app"] {
                try await catalog.metadata.createRepository(try repo(name))
            }
            let store = catalog.metadata
            func page(_ namespace: String, _ containing: String = "", after: String? = nil, limit: Int = 10) async throws -> [String] {
                try await store.repositories(inNamespace: namespace, containing: containing, after: after, limit: limit).map(\.value)
            }
            #expect(try await page("team") == ["team", "team/api", "team/db/replica", "team/web"])
            #expect(try await page("team", limit: 2) == ["team", "team/api"])
            #expect(try await page("team", after: "team/api", limit: 2) == ["team/db/replica", "team/web"])
            #expect(try await page("team", "b") == ["team/db/replica", "team/web"])
            #expect(try await page("team", "team") == ["team", "team/api", "team/db/replica", "team/web"])
            #expect(try await page("team", "/we") == ["team/web"])
            #expect(try await page("team", "we", after: "team/web").isEmpty)
            // Filters are plain text, not patterns.
            #expect(try await page("team", "%").isEmpty)
            #expect(try await page("team", "_").isEmpty)
            #expect(try await page("team", limit: 0).isEmpty)
            #expect(try await page("nobody").isEmpty)

            let counts = try await store.repositoryCounts(inNamespaces: ["team", "teams", "other", "nobody", "team"])
            #expect(counts == ["team": 4, "teams": 1, "other": 1])
            #expect(try await store.repositoryCounts(inNamespaces: []).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func tagCountsAreCappedPerRepository(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let big = try repo("team/big"), small = try repo("team/small"), empty = try repo("team/empty")
            for n in 0..<7 { try await catalog.metadata.putManifest(manifestRecord(1), references: [], in: big, tag: tag("v\(n)")) }
            try await catalog.metadata.putManifest(manifestRecord(2), references: [], in: small, tag: tag("latest"))
            try await catalog.metadata.putManifest(manifestRecord(3), references: [], in: small, tag: tag("old"))
            try await catalog.metadata.createRepository(empty)
            let all = [big, small, empty, try repo("team/none")]
            #expect(try await catalog.metadata.tagCounts(of: all, cappedAt: 100) == [big: 7, small: 2])
            #expect(try await catalog.metadata.tagCounts(of: all, cappedAt: 5) == [big: 5, small: 2])
            #expect(try await catalog.metadata.tagCounts(of: [], cappedAt: 5).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func logicalBytesOfSomeRepositoriesMatchTheNamespaceFigures(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let app = try repo("team/app"), db = try repo("team/db"), other = try repo("other/app")
            try await catalog.metadata.linkBlob(digest(100), size: 1_000, in: app)
            try await catalog.metadata.linkBlob(digest(101), size: 50, in: app)
            try await catalog.metadata.putManifest(manifestRecord(1, size: 7), references: [], in: app, tag: tag("v1"))
            // The same blob in another repository counts for each.
            try await catalog.metadata.linkBlob(digest(100), size: 1_000, in: db)
            try await catalog.metadata.linkBlob(digest(200), size: 9, in: other)
            try await catalog.metadata.createRepository(try repo("team/empty"))
            let bytes = try await catalog.usage.logicalBytes(of: [app, db, try repo("team/empty"), try repo("team/none")])
            #expect(bytes == [app: 1_057, db: 1_000, try repo("team/empty"): 0])
            // The same figures as the namespace-wide report.
            let namespace = try #require(try await catalog.usage.storage(namespace: "team").first)
            for repository in namespace.repositories {
                #expect(bytes[try repo(repository.repository)] == repository.logicalBytes)
            }
            #expect(try await catalog.usage.logicalBytes(of: []).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func shortDescriptionsOfSomeRepositories(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let time = date(milliseconds: 1_764_403_200_000)
            _ = try await catalog.access.updateDescription(of: "team/app", short: "The app <b>", full: "# App", at: time)
            _ = try await catalog.access.updateDescription(of: "team/db", short: "Database", full: nil, at: time)
            _ = try await catalog.access.updateDescription(of: "team/docs", short: nil, full: "only a full one", at: time)
            _ = try await catalog.access.updateDescription(of: "other/x", short: "elsewhere", full: nil, at: time)
            let found = try await catalog.access.shortDescriptions(of: ["team/app", "team/db", "team/docs", "team/none"])
            #expect(found == ["team/app": "The app <b>", "team/db": "Database"])
            #expect(try await catalog.access.shortDescriptions(of: []).isEmpty)
        }
    }
}
