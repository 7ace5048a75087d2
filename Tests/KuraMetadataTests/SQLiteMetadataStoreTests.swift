import Foundation
import KuraCore
import KuraMetadata
import Testing

/// What is particular to the SQLite store, beyond the shared conformance suite.
@Suite("SQLiteMetadataStore")
struct SQLiteMetadataStoreTests {
    @Test func fileStoreUsesWALAndKeepsDataAcrossReopening() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-meta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("catalog.sqlite").path

        do {
            let store = try SQLiteMetadataStore(path: path)
            try await store.putManifest(
                manifestRecord(1, annotations: ["k": "v"]), references: [.init(digest: digest(2), kind: .blob)],
                in: repo("app"), tag: tag("v1"))
            // The write-ahead log exists while a connection in WAL mode is open.
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        }

        // Reopening runs the migrator again, which must find nothing to do.
        let reopened = try SQLiteMetadataStore(path: path)
        #expect(try await reopened.resolveTag(tag("v1"), in: repo("app")) == digest(1))
        #expect(try await reopened.manifest(digest(1), in: repo("app")) == manifestRecord(1, annotations: ["k": "v"]))
        #expect(try await reopened.references(of: digest(1), in: repo("app")) == [.init(digest: digest(2), kind: .blob)])
    }

    @Test func inMemoryStoresAreIndependent() async throws {
        let one = try SQLiteMetadataStore.inMemory()
        let two = try SQLiteMetadataStore.inMemory()
        try await one.createRepository(repo("app"))
        #expect(try await one.repositoryExists(repo("app")))
        #expect(try await two.repositoryExists(repo("app")) == false)
    }

    @Test func openingAPathInAMissingFolderFails() {
        #expect(throws: (any Error).self) {
            try SQLiteMetadataStore(path: "/nonexistent-\(UUID().uuidString)/catalog.sqlite")
        }
    }
}
