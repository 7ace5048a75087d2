import Foundation
import KuraCore
import KuraMetadata
import KuraTestSupport
import Testing

/// The change feed names the repository whose tags or manifests changed, whoever changed
/// them: on SQLite in-process, on PostgreSQL to every catalog on the database (another node),
/// including changes made with SQL by hand.
@Suite("CatalogChangeFeed conformance: tags and manifests")
struct ManifestChangeFeedConformanceTests {
    static let app = try! RepositoryName(parsing: "team/app")
    static let other = try! RepositoryName(parsing: "team/other")

    /// Every write of tags and manifests, each with the repository it must be announced for,
    /// in an order that works on an empty catalog.
    static let writes: [(String, RepositoryName, @Sendable (Catalog) async throws -> Void)] = [
        ("a manifest pushed with a tag", app, { try await $0.metadata.putManifest(manifestRecord(1), references: [], in: app, tag: try Tag(parsing: "v1")) }),
        ("a manifest pushed in another repository", other, { try await $0.metadata.putManifest(manifestRecord(1), references: [], in: other, tag: nil) }),
        ("the tag moved within the quota check", app, {
            try await $0.quotas.putManifestWithinQuota(manifestRecord(2), references: [], in: app, tag: try Tag(parsing: "v1"))
        }),
        ("a tag deleted", app, { _ = try await $0.metadata.deleteTag(try Tag(parsing: "v1"), in: app) }),
        ("a manifest deleted", app, { _ = try await $0.metadata.deleteManifest(manifestRecord(2).digest, in: app) }),
        ("an untagged manifest collected", app, { catalog in
            let candidate = try #require(try await catalog.collection.untaggedManifest(manifestRecord(1).digest, in: app))
            #expect(try await catalog.collection.deleteManifestCandidate(candidate, createdBefore: Date().addingTimeInterval(60)))
        }),
        ("a repository deleted", other, { _ = try await $0.metadata.deleteRepository(other) }),
    ]

    @Test(arguments: CatalogFixture.all)
    func everyTagAndManifestWriteNamesItsRepository(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            try await Poll.until("the feed is live", timeout: .seconds(30)) { catalog.changes.isLive ? true : nil }
            let heard = HeardEvents(catalog.changes)
            try await Self.expectEachWriteHeard(through: catalog, by: heard)
        }
    }

    @Test("PostgreSQL: another catalog on the database hears each write once, with its repository; SQL by hand is heard too")
    func anotherCatalogHearsEveryWrite() async throws {
        try await CatalogChangeFeedConformanceTests.withTwoCatalogs { listening, writer, database in
            let heard = HeardEvents(listening.changes)
            try await Self.expectEachWriteHeard(through: Catalog(writer), by: heard)

            // A push is several statements (repository, manifest, tag upsert): one notification.
            var mark = heard.events.count
            try await writer.putManifest(manifestRecord(3), references: [], in: Self.app, tag: try Tag(parsing: "v3"))
            try await writer.createNamespace(NamespaceRecord(name: "marker"))
            try await Poll.until("the marker heard") { heard.events.last == .changed(.namespaces) ? true : nil }
            #expect(Array(heard.events[mark...]) == [.manifestsChanged(Self.app), .changed(.namespaces)])

            // SQL by hand: a tag moved, then a table emptied (every repository).
            let server = try await PostgreSQLServer.shared
            mark = heard.events.count
            try await server.psql("UPDATE tags SET updated_at = updated_at + 1 WHERE name = 'v3'", database: database)
            try await Poll.until("the update by hand heard") { heard.events[mark...].contains(.manifestsChanged(Self.app)) ? true : nil }
            mark = heard.events.count
            try await server.psql("TRUNCATE tags CASCADE", database: database)
            try await Poll.until("the truncation heard") { heard.events[mark...].contains(.manifestsChanged(nil)) ? true : nil }

            // One statement over more than 100 repositories says "every repository" instead of
            // naming each (and what no write touched is not announced at all).
            mark = heard.events.count
            try await server.psql(
                """
                INSERT INTO repositories (name, created_at) SELECT 'bulk/r' || i, 0 FROM generate_series(1, 101) i;
                INSERT INTO manifests (repository_id, digest, media_type, size, annotations, created_at)
                    SELECT id, 'sha256:' || repeat('a', 64), 'x', 1, '{}', 0 FROM repositories WHERE name LIKE 'bulk/%';
                """, database: database)
            try await Poll.until("the bulk insert heard") { heard.events[mark...].contains(.manifestsChanged(nil)) ? true : nil }
            #expect(!heard.events[mark...].contains { if case .manifestsChanged(let name?) = $0 { name.value.hasPrefix("bulk/") } else { false } })
        }
    }

    /// Makes each write of ``writes`` through `writer` and waits (10 s at most) until
    /// `heard` hears its repository named.
    static func expectEachWriteHeard(through writer: Catalog, by heard: HeardEvents) async throws {
        for (what, repository, write) in writes {
            let before = heard.events.count
            try await write(writer)
            try await Poll.until("\(what) announced for \(repository)", timeout: .seconds(10)) {
                heard.events[before...].contains(.manifestsChanged(repository)) ? true : nil
            }
        }
    }
}
