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

    @Test func aChangeOnTheFeedDropsItsRepositoryOnly() throws {
        let feed = CatalogChangeFeed(live: true)
        let cache = ManifestResolutionCache(feed: feed, clock: ManualClock())
        let other = try RepositoryName(parsing: "team/other")
        cache.store(Self.record("a"), for: Self.latest, in: Self.repository, stamp: cache.stamp(Self.repository))
        cache.store(Self.record("b"), for: Self.latest, in: other, stamp: cache.stamp(other))
        // A lookup in flight when the change is announced stores nothing.
        let inFlight = cache.stamp(Self.repository)
        feed.announceManifestsChanged(in: Self.repository)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        #expect(cache.lookup(Self.latest, in: other) == Self.record("b"))
        cache.store(Self.record("old"), for: Self.latest, in: Self.repository, stamp: inFlight)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        // Other kinds of change leave it alone; "any repository" drops everything.
        feed.announce(.namespaces)
        #expect(cache.lookup(Self.latest, in: other) == Self.record("b"))
        feed.announceManifestsChanged(in: nil)
        #expect(cache.lookup(Self.latest, in: other) == nil)
    }

    @Test func aZeroMaxAgeRemembersNothing() {
        // `catalog.lookupCacheMilliseconds: 0`: every lookup reads the catalog.
        let cache = ManifestResolutionCache(feed: CatalogChangeFeed(live: true), maxAge: .zero, clock: ManualClock())
        cache.store(Self.record("a"), for: Self.latest, in: Self.repository, stamp: cache.stamp(Self.repository))
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
    }

    @Test func nothingIsServedOrStoredWhileTheFeedIsInterrupted() {
        let feed = CatalogChangeFeed(live: true)
        let cache = ManifestResolutionCache(feed: feed, clock: ManualClock())
        cache.store(Self.record("a"), for: Self.latest, in: Self.repository, stamp: cache.stamp(Self.repository))
        let inFlight = cache.stamp(Self.repository)
        feed.setLive(false)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        cache.store(Self.record("b"), for: Self.latest, in: Self.repository, stamp: cache.stamp(Self.repository))
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        // Live again: it starts empty, and a lookup that began before does not store.
        feed.setLive(true)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        cache.store(Self.record("old"), for: Self.latest, in: Self.repository, stamp: inFlight)
        #expect(cache.lookup(Self.latest, in: Self.repository) == nil)
        cache.store(Self.record("c"), for: Self.latest, in: Self.repository, stamp: cache.stamp(Self.repository))
        #expect(cache.lookup(Self.latest, in: Self.repository) == Self.record("c"))
    }

    // MARK: through the registry

    /// A registry over a SQLite file in a scratch folder (`catalog.sqlite`, blobs beside it),
    /// its catalog's feed `changes` (the store's own when `nil`).
    static func withRegistry<T>(
        clock: ManualClock, changes: CatalogChangeFeed? = nil, _ body: (Registry, _ catalogPath: String) async throws -> T
    ) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-res-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteMetadataStore(path: path + "/catalog.sqlite")
        defer { try? store.close() }
        let catalog = Catalog(
            metadata: store, access: store, collection: store, retention: store, quotas: store, usage: store, webhooks: store,
            replication: store, scans: store, embedded: store, changes: changes ?? store.changes)
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: path + "/blobs", durability: .none)), catalog: catalog,
            logger: Logger(label: "test"), clock: clock)
        return try await body(registry, path + "/catalog.sqlite")
    }

    private func withRegistry<T>(clock: ManualClock, _ body: (Registry) async throws -> T) async throws -> T {
        try await Self.withRegistry(clock: clock) { registry, _ in try await body(registry) }
    }

    /// Pushes an image whose config holds `text`; returns the manifest's digest.
    static func pushImage(_ text: String, tag: String, _ registry: Registry) async throws -> Digest {
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

    private func pushImage(_ text: String, tag: String, _ registry: Registry) async throws -> Digest {
        try await Self.pushImage(text, tag: tag, registry)
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

    @Test func aWriteThroughTheCatalogIsSeenAtOnce() async throws {
        let clock = ManualClock()  // never advanced: only the feed can make the change visible
        try await withRegistry(clock: clock) { registry in
            let first = try await pushImage("one", tag: "latest", registry)
            let second = try await pushImage("two", tag: "other", registry)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            #expect(registry.resolutions.lookup(Self.latest, in: Self.repository)?.digest == first, "the lookup was not cached")
            // A job writing through the catalog (not through this registry) moves the tag.
            let moved = try #require(try await registry.catalog.metadata.manifest(second, in: Self.repository))
            try await registry.catalog.metadata.putManifest(moved, references: [], in: Self.repository, tag: try Tag(parsing: "latest"))
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == second)
        }
    }

    @Test func aChangeBehindTheRegistrysBackIsSeenWithinMaxAge() async throws {
        let clock = ManualClock()
        try await Self.withRegistry(clock: clock) { registry, catalogPath in
            let first = try await pushImage("one", tag: "latest", registry)
            let second = try await pushImage("two", tag: "other", registry)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            // Another process (a `kura` command on the same data folder) moves the tag: its
            // writes are not announced to this one.
            let otherProcess = try SQLiteMetadataStore(path: catalogPath)
            defer { try? otherProcess.close() }
            let moved = try #require(try await otherProcess.manifest(second, in: Self.repository))
            try await otherProcess.putManifest(moved, references: [], in: Self.repository, tag: try Tag(parsing: "latest"))
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            clock.advance(by: .seconds(1))
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == second)
        }
    }

    @Test func whileTheFeedIsInterruptedEveryLookupReadsTheCatalog() async throws {
        let feed = CatalogChangeFeed(live: true)
        try await Self.withRegistry(clock: ManualClock(), changes: feed) { registry, catalogPath in
            let first = try await pushImage("one", tag: "latest", registry)
            let second = try await pushImage("two", tag: "other", registry)
            let records = (
                first: try #require(try await registry.catalog.metadata.manifest(first, in: Self.repository)),
                second: try #require(try await registry.catalog.metadata.manifest(second, in: Self.repository)))
            let otherProcess = try SQLiteMetadataStore(path: catalogPath)
            defer { try? otherProcess.close() }
            func moveLatest(to record: ManifestRecord) async throws {
                try await otherProcess.putManifest(record, references: [], in: Self.repository, tag: try Tag(parsing: "latest"))
            }
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            // Live feed, unannounced change: the cached answer is served (the cache is on).
            try await moveLatest(to: records.second)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            // Interrupted: every lookup reads the catalog, and nothing is kept.
            feed.setLive(false)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == second)
            try await moveLatest(to: records.first)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            #expect(registry.resolutions.lookup(Self.latest, in: Self.repository) == nil)
            // Live again: cached again.
            feed.setLive(true)
            #expect(try await registry.manifestRecord(Self.latest, in: Self.repository).digest == first)
            #expect(registry.resolutions.lookup(Self.latest, in: Self.repository)?.digest == first)
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
