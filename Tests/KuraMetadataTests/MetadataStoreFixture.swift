import Foundation
import KuraMetadata
import KuraTestSupport
import Logging
import Synchronization
import Testing

/// A way to make a fresh, empty catalog for one test. The conformance suites run every test
/// once per fixture, so a new implementation joins them by adding a fixture to `all`.
struct CatalogFixture: Sendable, CustomTestStringConvertible {
    /// A fresh catalog, and a way to open a second handle on the same database (another
    /// process or node), where the implementation has one.
    struct Made: Sendable {
        var catalog: Catalog
        var reopen: (@Sendable () async throws -> Catalog)?
        var cleanup: @Sendable () async -> Void
    }

    let name: String
    let make: @Sendable () async throws -> Made

    var testDescription: String { name }

    /// Runs `body` with a fresh catalog and cleans it up afterwards, also when `body` throws.
    func withCatalog<T>(_ body: (Catalog) async throws -> T) async throws -> T {
        try await withMade { try await body($0.catalog) }
    }

    /// As ``withCatalog(_:)``, with the means to open the same database again.
    func withMade<T>(_ body: (Made) async throws -> T) async throws -> T {
        let made = try await make()
        do {
            let result = try await body(made)
            await made.cleanup()
            return result
        } catch {
            await made.cleanup()
            throw error
        }
    }

    /// The metadata store of a fresh catalog.
    func with<T>(_ body: (any MetadataStore) async throws -> T) async throws -> T {
        try await withCatalog { try await body($0.metadata) }
    }

    static let sqliteInMemory = CatalogFixture(name: "SQLite in memory") {
        Made(catalog: Catalog(try SQLiteMetadataStore.inMemory()), reopen: nil, cleanup: {})
    }

    /// A WAL database file in its own temporary folder, so the `-wal` and `-shm` files go too.
    static let sqliteFile = CatalogFixture(name: "SQLite file (WAL)") {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("catalog.sqlite").path
        return Made(
            catalog: Catalog(try SQLiteMetadataStore(path: path)), reopen: { Catalog(try SQLiteMetadataStore(path: path)) },
            cleanup: { try? FileManager.default.removeItem(at: folder) })
    }

    /// A database of its own on the PostgreSQL server the test process starts.
    static let postgres = CatalogFixture(name: "PostgreSQL 15") {
        let (url, database) = try await PostgreSQLServer.makeDatabase(template: try await migratedTemplate.value)
        let logger = testLogger
        let first = try await PostgresCatalog.open(url: url, poolSize: 8, startTimeout: .seconds(120), logger: logger)
        let opened = OpenCatalogs(first)
        return Made(
            catalog: Catalog(first),
            reopen: {
                let another = try await PostgresCatalog.open(url: url, poolSize: 8, startTimeout: .seconds(120), logger: logger)
                opened.add(another)
                return Catalog(another)
            },
            cleanup: {
                opened.closeAll()
                await PostgreSQLServer.dropDatabase(database)
            })
    }

    /// A database migrated once per test process, which each test's database copies (the
    /// migrations themselves are tested from scratch in PostgresCatalogTests).
    static let migratedTemplate = Task<String, any Error> {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        let catalog = try await PostgresCatalog.open(url: url, poolSize: 1, startTimeout: .seconds(120), logger: testLogger)
        catalog.close()
        try await PostgreSQLServer.disconnectAll(from: database)
        return database
    }

    static let all: [CatalogFixture] = [.sqliteInMemory, .sqliteFile, .postgres]
    /// The fixtures whose database a second handle can open.
    static let shared: [CatalogFixture] = [.sqliteFile, .postgres]
}

/// Warnings and worse only: the pool's own chatter would drown the test output.
let testLogger: Logger = {
    var logger = Logger(label: "catalog-test")
    logger.logLevel = .warning
    return logger
}()

/// The PostgreSQL catalogs a test opened, closed at its end.
final class OpenCatalogs: Sendable {
    private let catalogs: Mutex<[PostgresCatalog]>
    init(_ first: PostgresCatalog) { catalogs = Mutex([first]) }
    func add(_ catalog: PostgresCatalog) { catalogs.withLock { $0.append(catalog) } }
    func closeAll() { for catalog in catalogs.withLock({ $0 }) { catalog.close() } }
}

