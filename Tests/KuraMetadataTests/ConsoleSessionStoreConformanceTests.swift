import Foundation
import KuraMetadata
import Testing

/// The console's sessions in the catalog, on every catalog in ``CatalogFixture/all``; and
/// seen through a second handle (another node) on those that have one.
@Suite struct ConsoleSessionStoreConformanceTests {
    static func record(_ id: String, createdAt: Int64, seenAt: Int64) -> ConsoleSessionRecord {
        ConsoleSessionRecord(
            idHash: id, keyID: "KEY\(id)", csrfToken: "token-\(id)", createdAt: date(milliseconds: createdAt), lastSeenAt: date(milliseconds: seenAt))
    }

    @Test(arguments: CatalogFixture.all)
    func sessionsAreKeptTouchedAndSwept(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.consoleSessions
            let a = Self.record("a", createdAt: 1_000_000, seenAt: 1_000_000)
            try await store.createConsoleSession(a)
            try await store.createConsoleSession(Self.record("b", createdAt: 1_000_000, seenAt: 1_500_000))
            try await store.createConsoleSession(Self.record("c", createdAt: 2_000_000, seenAt: 2_000_000))
            #expect(try await store.consoleSession(idHash: "a") == a)
            #expect(try await store.consoleSession(idHash: "nope") == nil)
            await #expect(throws: (any Error).self) { try await store.createConsoleSession(a) }

            // Touching moves the time forward, never back.
            #expect(try await store.touchConsoleSession(idHash: "a", at: date(milliseconds: 1_200_000)))
            #expect(try await store.touchConsoleSession(idHash: "a", at: date(milliseconds: 1_100_000)))
            #expect(try await store.consoleSession(idHash: "a")?.lastSeenAt == date(milliseconds: 1_200_000))
            #expect(try await store.touchConsoleSession(idHash: "nope", at: date(milliseconds: 1)) == false)

            // Swept: idle before 1_300_000 (a) or created before 1_500_000 (b too); c stays.
            #expect(try await store.deleteConsoleSessions(lastSeenBefore: date(milliseconds: 1_300_000), createdBefore: date(milliseconds: 1_000_000)) == 1)
            #expect(try await store.consoleSessionCount() == 2)
            #expect(try await store.deleteConsoleSessions(lastSeenBefore: date(milliseconds: 0), createdBefore: date(milliseconds: 1_500_000)) == 1)
            #expect(try await store.consoleSession(idHash: "c") != nil)
            #expect(try await store.deleteConsoleSession(idHash: "c"))
            #expect(try await store.deleteConsoleSession(idHash: "c") == false)
            #expect(try await store.consoleSessionCount() == 0)
        }
    }

    @Test(arguments: CatalogFixture.shared)
    func anotherHandleSeesTheSameSessions(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            let other = try await reopen()
            try await made.catalog.consoleSessions.createConsoleSession(Self.record("x", createdAt: 5_000, seenAt: 5_000))
            #expect(try await other.consoleSessions.consoleSession(idHash: "x")?.keyID == "KEYx")
            try await other.consoleSessions.deleteConsoleSession(idHash: "x")
            #expect(try await made.catalog.consoleSessions.consoleSession(idHash: "x") == nil)
        }
    }
}
