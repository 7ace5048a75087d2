import Foundation
import KuraCore
import KuraMetadata
@testable import KuraRegistry
import KuraStorage
import KuraTestSupport
import Logging
import Testing

/// Two registries over one catalog and one blob folder, as two nodes: what one writes drops
/// the other's cached lookups through the catalog's change feed. The reader's cache never
/// ages (its clock is never advanced), so only the feed can make it see a change.
@Suite("Manifest resolution cache across nodes")
struct ManifestResolutionAcrossNodesTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        /// Two registries over the same SQLite catalog (a job writing beside the server).
        case sqlite = "SQLite"
        /// Two PostgresCatalogs on one database, each with its own LISTEN connection.
        case postgres = "PostgreSQL 15"
        var testDescription: String { rawValue }
    }

    static let repository = try! RepositoryName(parsing: "team/app")
    static let latest = Reference.tag(try! Tag(parsing: "latest"))

    @Test(arguments: Backend.allCases)
    func aTagChangedOnOneNodeIsDroppedOnTheOther(_ backend: Backend) async throws {
        try await Self.withNodes(backend) { writer, reader in
            let first = try await ManifestResolutionTests.pushImage("one", tag: "latest", writer)
            // Read (and cached) on the reader; the push's own notification may arrive after
            // the read and drop it once, so read until it stays.
            try await Self.untilCached(Self.latest, on: reader)
            #expect(reader.resolutions.lookup(Self.latest, in: Self.repository)?.digest == first)

            // The tag moved by a push on the writer.
            let second = try await ManifestResolutionTests.pushImage("two", tag: "latest", writer)
            try await Self.untilDropped(Self.latest, on: reader)
            #expect(try await reader.manifestRecord(Self.latest, in: Self.repository).digest == second)

            // The tag deleted on the writer: not found on the reader.
            try await writer.deleteManifest(Self.latest, in: Self.repository)
            try await Self.untilDropped(Self.latest, on: reader)
            await #expect(throws: RegistryError.self) { try await reader.manifestRecord(Self.latest, in: Self.repository) }

            // A manifest deleted by digest, and the repository deleted.
            try await Self.untilCached(.digest(first), on: reader)
            try await writer.deleteManifest(.digest(first), in: Self.repository)
            try await Self.untilDropped(.digest(first), on: reader)
            await #expect(throws: RegistryError.self) { try await reader.manifestRecord(.digest(first), in: Self.repository) }
            try await Self.untilCached(.digest(second), on: reader)
            try await writer.deleteRepository(Self.repository)
            try await Self.untilDropped(.digest(second), on: reader)
            await #expect(throws: RegistryError.self) { try await reader.manifestRecord(.digest(second), in: Self.repository) }
        }
    }

    @Test(arguments: Backend.allCases)
    func aTagPushedOnOneNodeIsFoundOnTheOtherAtOnce(_ backend: Backend) async throws {
        try await Self.withNodes(backend) { writer, reader in
            // "Not found" is never cached: no waiting for the feed.
            await #expect(throws: RegistryError.self) { try await reader.manifestRecord(Self.latest, in: Self.repository) }
            let pushed = try await ManifestResolutionTests.pushImage("one", tag: "latest", writer)
            #expect(try await reader.manifestRecord(Self.latest, in: Self.repository).digest == pushed)
        }
    }

    /// Reads `reference` on `reader` until it is cached there (10 s at most): the notification
    /// of the write that made it may arrive after a read and drop it once.
    static func untilCached(_ reference: Reference, on reader: Registry) async throws {
        try await Poll.until("the reader caches \(reference)", timeout: .seconds(10), interval: .milliseconds(2)) {
            _ = try await reader.manifestRecord(reference, in: repository)
            return reader.resolutions.lookup(reference, in: repository) != nil ? true : nil
        }
    }

    /// Waits (10 s at most) until `reader` no longer holds `reference`.
    static func untilDropped(_ reference: Reference, on reader: Registry) async throws {
        try await Poll.until("the reader dropped \(reference)", timeout: .seconds(10), interval: .milliseconds(2)) {
            reader.resolutions.lookup(reference, in: repository) == nil ? true : nil
        }
    }

    static func withNodes<T>(_ backend: Backend, _ body: (_ writer: Registry, _ reader: Registry) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-nodes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let blobs = BlobStore(backend: try FileSystemBackend(root: folder + "/blobs", durability: .none))
        var logger = Logger(label: "nodes-test")
        logger.logLevel = .warning
        func registry(_ catalog: Catalog) -> Registry {
            Registry(blobs: blobs, catalog: catalog, logger: logger, clock: ManualClock())
        }
        switch backend {
        case .sqlite:
            let store = try SQLiteMetadataStore(path: folder + "/catalog.sqlite")
            defer { try? store.close() }
            return try await body(registry(Catalog(store)), registry(Catalog(store)))
        case .postgres:
            let (url, database) = try await PostgreSQLServer.makeDatabase()
            let one = try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(120), logger: logger)
            let two = try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(120), logger: logger)
            do {
                try await Poll.until("both feeds live", timeout: .seconds(30)) { one.changes.isLive && two.changes.isLive ? true : nil }
                let result = try await body(registry(Catalog(one)), registry(Catalog(two)))
                one.close()
                two.close()
                await PostgreSQLServer.dropDatabase(database)
                return result
            } catch {
                one.close()
                two.close()
                await PostgreSQLServer.dropDatabase(database)
                throw error
            }
        }
    }
}
