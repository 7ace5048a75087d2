import Foundation
import KuraMetadata
import Testing

/// A way to make a fresh, empty catalog for one test. The conformance suite runs every test
/// once per fixture, so a new implementation joins the suite by adding a fixture to `all`.
struct MetadataStoreFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> (store: any MetadataStore, cleanup: @Sendable () async -> Void)

    var testDescription: String { name }

    /// Runs `body` with a fresh store and cleans it up afterwards, also when `body` throws.
    func with<T>(_ body: (any MetadataStore) async throws -> T) async throws -> T {
        let (store, cleanup) = try await make()
        do {
            let result = try await body(store)
            await cleanup()
            return result
        } catch {
            await cleanup()
            throw error
        }
    }

    static let sqliteInMemory = MetadataStoreFixture(name: "SQLite in memory") {
        (try SQLiteMetadataStore.inMemory(), {})
    }

    /// A WAL database file in its own temporary folder, so the `-wal` and `-shm` files go too.
    static let sqliteFile = MetadataStoreFixture(name: "SQLite file (WAL)") {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("catalog.sqlite").path)
        return (store, { try? FileManager.default.removeItem(at: folder) })
    }

    static let all: [MetadataStoreFixture] = [.sqliteInMemory, .sqliteFile]
}
