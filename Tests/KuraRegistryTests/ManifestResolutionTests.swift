import Foundation
import KuraCore
import KuraMetadata
@testable import KuraRegistry
import KuraStorage
import KuraTestSupport
import Logging
import NIOCore
import Testing

/// Tag and digest lookups remembered by the registry: its own writes are read at once,
/// changes made behind its back within the cache's age bound.
@Suite("Manifest resolution cache")
struct ManifestResolutionTests {
    private static func record(_ text: String) -> ManifestRecord {
        ManifestRecord(digest: ContentHasher.digest(.sha256, of: Array(text.utf8)), mediaType: MediaType.ociManifest, size: Int64(text.utf8.count),
            createdAt: Date(timeIntervalSince1970: 0))
    }

    private static let repository = try! RepositoryName(parsing: "team/app")
    private static let latest = Reference.tag(try! Tag(parsing: "latest"))

    @Test func aLookupRacedByAWriteStoresNothing() {
        let cache = ManifestResolutionCache()
        let stamp = cache.stamp(Self.repository)
        cache.invalidate(Self.repository)  // a push commits while the lookup reads the old record
        cache.store(Self.record("old"), for: Self.latest, in: Self.repository, stamp: stamp)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        // Another repository's write does not matter.
        let other = try! RepositoryName(parsing: "team/other")
        let fresh = cache.stamp(Self.repository)
        cache.invalidate(other)
        cache.store(Self.record("new"), for: Self.latest, in: Self.repository, stamp: fresh)
        #expect(cache.lookup(Self.latest, in: Self.repository) == Self.record("new"))
    }

    @Test func entriesLiveAtMostMaxAge() {
        let clock = ManualClock()
        let cache = ManifestResolutionCache(maxAge: .seconds(1), clock: clock)
        cache.store(Self.record("a"), for: Self.latest, in: Self.repository, stamp: cache.stamp(Self.repository))
        clock.advance(by: .milliseconds(999))
        #expect(cache.lookup(Self.latest, in: Self.repository) == Self.record("a"))
        clock.advance(by: .milliseconds(1))
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
    }

    @Test func clearingTheGenerationsKeepsOldStampsDead() throws {
        let cache = ManifestResolutionCache(capacity: 3)
        let stamp = cache.stamp(Self.repository)
        // The repository moves well past the capacity, then the table fills and is cleared.
        for _ in 0..<10 { cache.invalidate(Self.repository) }
        for name in ["a", "b", "c", "d"] { cache.invalidate(try RepositoryName(parsing: name)) }
        cache.store(Self.record("old"), for: Self.latest, in: Self.repository, stamp: stamp)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        for _ in 0..<12 { cache.invalidate(Self.repository) }
        cache.store(Self.record("old"), for: Self.latest, in: Self.repository, stamp: stamp)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        cache.store(Self.record("new"), for: Self.latest, in: Self.repository, stamp: cache.stamp(Self.repository))
        #expect(cache.lookup(Self.latest, in: Self.repository) == Self.record("new"))
    }

    // MARK: through the registry

    private func withRegistry<T>(clock: ManualClock, _ body: (Registry) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-res-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: path, durability: .none)),
            catalog: Catalog(try SQLiteMetadataStore.inMemory()), logger: Logger(label: "test"), clock: clock)
        return try await body(registry)
    }

    /// Pushes an image whose config holds `text`; returns the manifest's digest.
    private func pushImage(_ text: String, tag: String, _ registry: Registry) async throws -> Digest {
        let config = Array("{\"x\":\"\(text)\"}".utf8)
        let configDigest = ContentHasher.digest(.sha256, of: config)
        _ = try await registry.uploadBlob(
            SingleBufferSequence(buffer: ByteBuffer(bytes: config)), digest: configDigest, length: Int64(config.count), into: Self.repository)
        let manifest = """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(configDigest)","size":\(config.count)},"layers":[]}
            """
        return try await registry.putManifest(
            ByteBuffer(string: manifest), contentType: MediaType.ociManifest, reference: .tag(try Tag(parsing: tag)), in: Self.repository
        ).digest
    }

    @Test func theRegistrysOwnWritesAreReadAtOnce() async throws {
        let clock = ManualClock()  // never advanced: only invalidation can make a change visible
        try await withRegistry(clock: clock) { registry in
            let first = try await pushImage("one", tag: "latest", registry)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            #expect(try await registry.manifestRecord(.digest(first), in: Self.repository).digest == first)
            // Moved by a push.
            let second = try await pushImage("two", tag: "latest", registry)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == second)
            // A tag deleted.
            try await registry.deleteManifest(Self.latest, in: Self.repository)
            await #expect(throws: RegistryError.self) { try await registry.manifestRecord(Self.latest, in: Self.repository) }
            // A manifest deleted by digest.
            try await registry.deleteManifest(.digest(first), in: Self.repository)
            await #expect(throws: RegistryError.self) { try await registry.manifestRecord(.digest(first), in: Self.repository) }
            // The repository deleted.
            _ = try await pushImage("three", tag: "v3", registry)
            let v3 = Reference.tag(try Tag(parsing: "v3"))
            _ = try await registry.manifestRecord(v3, in: Self.repository)
            try await registry.deleteRepository(Self.repository)
            await #expect(throws: RegistryError.self) { try await registry.manifestRecord(v3, in: Self.repository) }
        }
    }

    @Test func aChangeBehindTheRegistrysBackIsSeenWithinMaxAge() async throws {
        let clock = ManualClock()
        try await withRegistry(clock: clock) { registry in
            let first = try await pushImage("one", tag: "latest", registry)
            let second = try await pushImage("two", tag: "other", registry)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            // Another process (a `kura` command on the same data folder) moves the tag.
            let moved = try #require(try await registry.catalog.metadata.manifest(second, in: Self.repository))
            try await registry.catalog.metadata.putManifest(moved, references: [], in: Self.repository, tag: try Tag(parsing: "latest"))
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            clock.advance(by: .seconds(1))
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == second)
        }
    }

    @Test func garbageCollectionForgetsWhatItDeletes() async throws {
        let clock = ManualClock()
        try await withRegistry(clock: clock) { registry in
            let first = try await pushImage("one", tag: "latest", registry)
            _ = try await pushImage("two", tag: "latest", registry)  // `first` is untagged now
            #expect(try await registry.manifestRecord(.digest(first), in: Self.repository).digest == first)
            var options = GarbageCollectionOptions()
            options.gracePeriod = 0
            options.deleteUntagged = true
            options.untaggedAge = 0
            _ = try await GarbageCollector(registry: registry, options: options).run()
            await #expect(throws: RegistryError.self) { try await registry.manifestRecord(.digest(first), in: Self.repository) }
        }
    }
}
