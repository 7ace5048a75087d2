import Foundation
import KuraCore
import KuraMetadata
import KuraTestSupport
import Logging
import Testing

/// What is particular to the PostgreSQL catalog, beyond the shared conformance suites.
@Suite("PostgresCatalog")
struct PostgresCatalogTests {
    @Test func nodesStartingTogetherMigrateOnce() async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        let logger = testLogger
        let catalogs = try await withThrowingTaskGroup(of: PostgresCatalog.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(120), logger: logger) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(catalogs.count == 4)
        #expect(try await catalogs[0].appliedMigrations() == [1, 2, 3, 4, 5, 6, 7, 8, 20, 21, 22, 23, 30, 31])
        // Opening again finds nothing to do, and the data is shared.
        try await catalogs[1].createRepository(repo("team/app"))
        let again = try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(120), logger: logger)
        #expect(try await again.repositoryExists(repo("team/app")))
        for catalog in catalogs + [again] { catalog.close() }
        await PostgreSQLServer.dropDatabase(database)
    }

    @Test func urlsAreCheckedAndPasswordsRedacted() throws {
        let connection = try PostgresCatalog.Connection(url: "postgres://kura:s%40cret@db.internal:6432/registry?sslmode=require")
        #expect(connection.host == "db.internal" && connection.port == 6432 && connection.user == "kura")
        #expect(connection.password == "s@cret" && connection.database == "registry" && connection.tls == "require")
        let defaults = try PostgresCatalog.Connection(url: "postgresql://db")
        #expect(defaults.port == 5432 && defaults.user == "postgres" && defaults.tls == "disable")
        #expect(throws: PostgresCatalogError.self) { try PostgresCatalog.Connection(url: "mysql://db/x") }
        #expect(throws: PostgresCatalogError.self) { try PostgresCatalog.Connection(url: "postgres://db/x?sslmode=verify-full") }
        #expect(PostgresCatalog.Connection.redacted("postgres://kura:secret@db/x").contains("secret") == false)
    }

    @Test func anUnreachableServerIsAClearError() async throws {
        let port = try SeaweedFS.freePorts(1)[0]
        await #expect(throws: PostgresCatalogError.self) {
            try await PostgresCatalog.open(url: "postgres://postgres@127.0.0.1:\(port)/none", poolSize: 1, startTimeout: .seconds(2), logger: testLogger)
        }
    }
}
