import Foundation
import KuraCore
import KuraMetadata
import KuraTestSupport
import Synchronization
import Testing

/// The catalog's change feed: every writer of what nodes cache announces what it changed,
/// on SQLite in-process and on PostgreSQL to every catalog on the same database.
@Suite("CatalogChangeFeed conformance")
struct CatalogChangeFeedConformanceTests {
    /// One write of each kind, in an order that works on an empty catalog.
    static let writes: [(CatalogChange, @Sendable (Catalog) async throws -> Void)] = [
        (.accounts, { try await $0.access.createAccount(Account(name: "ci")) }),
        (.accessKeys, { try await $0.access.createKey(AccessKeyRecord(id: "K1", account: "ci", secretHash: [1])) }),
        (.grants, { try await $0.access.setGrant(Grant(account: "ci", namespace: "team", role: .viewer)) }),
        (.namespaces, { try await $0.access.createNamespace(NamespaceRecord(name: "team")) }),
        (.namespaces, { _ = try await $0.access.setNamespacePublic("team", true) }),
        (.accessKeys, { _ = try await $0.access.setKeyStatus("K1", .disabled) }),
        (.accounts, { _ = try await $0.access.setAccountDisabled("ci", true) }),
        (.grants, { _ = try await $0.access.removeGrant(account: "ci", namespace: "team") }),
        (.webhooks, {
            try await $0.webhooks.createWebhook(
                WebhookRecord(id: "W1", namespace: "team", url: "http://127.0.0.1:9/hook", sealedSecret: [1], events: [.push]))
        }),
        (.webhooks, { _ = try await $0.webhooks.deleteWebhook(id: "W1", namespace: "team") }),
        (.scanPolicies, { try await $0.scans.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "high", allowList: [])) }),
        (.scanPolicies, { _ = try await $0.scans.deleteScanPolicy(namespace: "team") }),
        (.accessKeys, { _ = try await $0.access.deleteKey("K1") }),
        (.namespaces, { _ = try await $0.access.deleteNamespace("team") }),
        (.accounts, { _ = try await $0.access.deleteAccount("ci") }),
    ]

    @Test(arguments: CatalogFixture.all)
    func everyWriterAnnouncesWhatItChanged(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            try await Poll.until("the feed is live", timeout: .seconds(30)) { catalog.changes.isLive ? true : nil }
            let heard = HeardEvents(catalog.changes)
            #expect(heard.events == [.live], "a subscriber first hears the feed's state")
            try await Self.expectEachWriteHeard(through: catalog, by: heard)
        }
    }

    @Test(arguments: [CatalogFixture.postgres])
    func aChangeThroughOneCatalogIsHeardByAnotherOnTheSameDatabase(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            let writer = try await reopen()
            try await Poll.until("the feed is live", timeout: .seconds(30)) { made.catalog.changes.isLive ? true : nil }
            let heard = HeardEvents(made.catalog.changes)
            try await Self.expectEachWriteHeard(through: writer, by: heard)

            // A key's "last used" time changes nothing cached: no notification for it.
            try await writer.access.createAccount(Account(name: "bob"))
            try await writer.access.createKey(AccessKeyRecord(id: "KB", account: "bob", secretHash: [2]))
            try await Poll.until("the key heard") { heard.events.last == .changed(.accessKeys) ? true : nil }
            let mark = heard.events.count
            try await writer.access.touchKey("KB", at: Date())
            try await writer.access.createNamespace(NamespaceRecord(name: "marker"))
            try await Poll.until("the namespace heard") { heard.events.count > mark ? true : nil }
            #expect(Array(heard.events[mark...]) == [.changed(.namespaces)], "touching a key announced something")
        }
    }

    @Test("PostgreSQL: the feed says so when its LISTEN connection is cut, listens again, and hears changes again")
    func theListenerReconnects() async throws {
        try await Self.withTwoCatalogs { listening, writer, database in
            let heard = HeardEvents(listening.changes)
            try await PostgreSQLServer.shared.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'kura-catalog-listener'")
            try await Poll.until("the feed interrupted and live again", timeout: .seconds(30)) {
                heard.events.starts(with: [.live, .interrupted]) && heard.events.last == .live ? true : nil
            }
            try await writer.createNamespace(NamespaceRecord(name: "after"))
            try await Poll.until("a change heard after reconnecting", timeout: .seconds(10)) {
                heard.events.last == .changed(.namespaces) ? true : nil
            }
        }
    }

    /// Two PostgreSQL catalogs (two nodes) on a new database, the first's feed live; both
    /// closed and the database dropped afterwards.
    static func withTwoCatalogs(
        _ body: (_ listening: PostgresCatalog, _ writer: PostgresCatalog, _ database: String) async throws -> Void
    ) async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase(template: try await CatalogFixture.migratedTemplate.value)
        let listening = try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(120), logger: testLogger)
        let writer = try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(120), logger: testLogger)
        defer {
            listening.close()
            writer.close()
        }
        do {
            try await Poll.until("the feed is live", timeout: .seconds(30)) { listening.changes.isLive ? true : nil }
            try await body(listening, writer, database)
        } catch {
            await PostgreSQLServer.dropDatabase(database)
            throw error
        }
        await PostgreSQLServer.dropDatabase(database)
    }

    /// Makes each write of ``writes`` through `writer` and waits (10 s at most) until
    /// `heard` hears its kind.
    static func expectEachWriteHeard(through writer: Catalog, by heard: HeardEvents) async throws {
        for (index, (change, write)) in writes.enumerated() {
            let before = heard.events.count
            try await write(writer)
            try await Poll.until("write \(index) announced as \(change)", timeout: .seconds(10)) {
                heard.events[before...].contains(.changed(change)) ? true : nil
            }
        }
    }
}

/// What a subscriber of a feed heard, in order.
final class HeardEvents: Sendable {
    private let heard = Events()
    private let subscription: CatalogFeedSubscription

    private final class Events: Sendable {
        let list = Mutex<[CatalogFeedEvent]>([])
    }

    init(_ feed: CatalogChangeFeed) {
        subscription = feed.subscribe { [heard] event in heard.list.withLock { $0.append(event) } }
    }

    var events: [CatalogFeedEvent] { heard.list.withLock { $0 } }
}
