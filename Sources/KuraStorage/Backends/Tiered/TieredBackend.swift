public import Foundation
import KuraCore
import Metrics
public import NIOCore
import Synchronization

/// A bounded local disk cache in front of a remote backend (S3, or any other).
///
/// Reads of whole objects are served from the cache when they are there (a hit) and
/// otherwise streamed from the remote to the caller while a copy fills the cache (a miss).
/// A blob (`blobs/<alg>/…`) is kept only if its bytes hash to its digest, and the caller
/// receives the last chunk only after that check, so a corrupt remote object never reaches a
/// client whole. Concurrent misses of one object fill the cache once (the others read the
/// remote directly). The cache holds at most `maxBytes`, evicting least recently used objects,
/// and survives restarts (its index is rebuilt from the cache folder). Writes go to the
/// remote; with `keepWrites`, a freshly published blob is copied into the cache as well.
public final class TieredBackend: ObjectBackend {
    /// Counters since start. The same figures go to swift-metrics as
    /// `kura_cache_{hits,misses,evictions,fills,rejected_fills,abandoned_fills}_total` and
    /// `kura_cache_bytes_total{source=cache|remote}`.
    public struct Statistics: Sendable, Hashable {
        public var hits = 0
        public var misses = 0
        public var bytesFromCache: Int64 = 0
        public var bytesFromRemote: Int64 = 0
        public var evictions = 0
        public var fills = 0
        public var rejectedFills = 0
        /// Fills given up because the cache's copy fell too far behind the client's stream.
        public var abandonedFills = 0
        /// Cached copies found damaged on read (and dropped).
        public var corruptCopies = 0
    }

    struct Entry {
        var size: Int64
        var lastUse: UInt64
    }

    struct State {
        var entries: [ObjectKey: Entry] = [:]
        var bytes: Int64 = 0
        var clock: UInt64 = 0
        var filling: Set<ObjectKey> = []
        var statistics = Statistics()
    }

    public let remote: any ObjectBackend
    public let cache: FileSystemBackend
    public let maxBytes: Int64
    public let keepWrites: Bool
    /// How far the cache's copy of a miss may fall behind the client's stream before it is
    /// given up (the next read fills again), so the copy never slows the client.
    public let fillLagBytes: Int
    let state = Mutex(State())

    public var name: String { "tiered" }
    /// How much of a fill is gathered before it is written to the cache.
    static let fillBatchBytes = 1 << 20
    /// How much of a fill the client's stream gathers before handing it to the hasher and the
    /// writer beside it (fewer, larger hand-overs: fewer thread wake-ups).
    static let fillHandOffBytes = 256 << 10
    /// The most bytes of a fill waiting to be hashed; past it the client's stream waits for
    /// the hash (which is faster than any remote, so in practice never).
    static let fillHashLagBytes = 16 << 20
    public var minimumPartSize: Int { remote.minimumPartSize }
    public var preferredPartSize: Int { remote.preferredPartSize }

    /// - Parameters:
    ///   - cacheDirectory: the local folder (created); its contents are a cache only.
    ///   - maxBytes: the most bytes the cache keeps.
    ///   - fillLagBytes: see ``fillLagBytes``.
    public init(
        remote: any ObjectBackend, cacheDirectory: String, maxBytes: Int64, keepWrites: Bool = false, fillLagBytes: Int = 32 << 20
    ) async throws {
        self.remote = remote
        self.fillLagBytes = fillLagBytes
        self.cache = try FileSystemBackend(root: cacheDirectory, durability: .none)
        self.maxBytes = maxBytes
        self.keepWrites = keepWrites
        // Rebuild the index from what is on disk, oldest modification first; fills that a
        // crash interrupted are dropped.
        var found: [ObjectInfo] = []
        for try await object in cache.listAll(prefix: "") {
            if object.key.value.hasPrefix("fill/") {
                _ = try await cache.delete(object.key)
            } else {
                found.append(object)
            }
        }
        found.sort { $0.modified < $1.modified }
        state.withLock { state in
            for object in found {
                state.clock += 1
                state.entries[object.key] = Entry(size: object.size, lastUse: state.clock)
                state.bytes += object.size
            }
        }
        try await evictIfNeeded()
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Bytes the cache holds now.
    public var cachedBytes: Int64 { state.withLock { $0.bytes } }

    public func isCached(_ key: ObjectKey) -> Bool { state.withLock { $0.entries[key] != nil } }

    // MARK: reads

    public func get(_ key: ObjectKey, range: Range<Int64>?) async throws -> ObjectRead {
        if state.withLock({ $0.entries[key] != nil }) {
            do {
                let read = try await cache.get(key, range: range)
                state.withLock { state in
                    state.clock += 1
                    state.entries[key]?.lastUse = state.clock
                    state.statistics.hits += 1
                    state.statistics.bytesFromCache += Int64(read.range.count)
                }
                Counter(label: "kura_cache_hits_total").increment()
                Counter(label: "kura_cache_bytes_total", dimensions: [("source", "cache")]).increment(by: read.range.count)
                // Whole blobs are re-hashed as they leave the cache: a copy damaged on disk is
                // dropped (the next read refetches it) and never reaches a client whole. The
                // hash runs beside the stream, as a fill's does: the reader may be a client
                // connection's event loop (a blob GET's body), which must not spend a
                // millisecond per chunk hashing while its other connections wait.
                if range == nil, let digest = Self.digest(of: key) {
                    let hooks = DigestVerifyingSequence<ObjectBody>.Hooks(failed: { [self] error in
                        guard error is DigestVerificationError else { return nil }
                        forget(key)
                        _ = try? await cache.delete(key)
                        state.withLock { $0.statistics.corruptCopies += 1 }
                        Counter(label: "kura_cache_corrupt_total").increment()
                        return StorageError.backend("cached copy of \(key) is corrupt; dropped")
                    })
                    let checked = DigestVerifyingSequence(read.body, digest: digest, hooks: hooks, hashBesideLag: Self.fillHashLagBytes)
                    return ObjectRead(size: read.size, range: read.range, body: Self.body(checked))
                }
                return read
            } catch StorageError.notFound {
                forget(key)  // removed behind our back: fall through to the remote
            }
        }
        let read = try await remote.get(key, range: range)
        let fillable = range == nil && read.size <= maxBytes
        let fill = state.withLock { state in
            state.statistics.misses += 1
            state.statistics.bytesFromRemote += Int64(read.range.count)
            // Fill only if nobody filled it meanwhile, and nobody is filling it now.
            return fillable && state.entries[key] == nil && state.filling.insert(key).inserted
        }
        Counter(label: "kura_cache_misses_total").increment()
        Counter(label: "kura_cache_bytes_total", dimensions: [("source", "remote")]).increment(by: read.range.count)
        guard fill else { return read }
        return ObjectRead(size: read.size, range: read.range, body: filling(key, size: read.size, from: read.body))
    }

    /// Passes `body` through while a copy fills the cache beside it (``CacheCopy``), which
    /// also hashes it there; keeps the copy only when complete and (for blobs) verified.
    /// Pull-based, so a slow reader slows the remote read (nothing piles up in memory); the
    /// last chunk is held back until the check passed.
    private func filling(_ key: ObjectKey, size: Int64, from body: ObjectBody) -> ObjectBody {
        let copy = CacheCopy(key: key, size: size, digest: Self.digest(of: key), owner: self)
        // No digest here: the copy hashes beside the stream and checks in `verified`.
        let verified = DigestVerifyingSequence(
            body, digest: nil,
            hooks: .init(
                received: { await copy.add($0) }, verified: { try await copy.verifyAndKeep() },
                failed: { error in await copy.drop(after: error) }))
        return Self.body(verified)
    }

    /// An object body reading `sequence`.
    private static func body<Base>(_ sequence: DigestVerifyingSequence<Base>) -> ObjectBody {
        let box = IteratorBox(sequence.makeAsyncIterator())
        return ObjectBody(unfolding: { try await box.next() })
    }

    /// Holds an iterator for an unfolding stream, whose calls to `next()` never overlap:
    /// that is what makes the unchecked state safe.
    private final class IteratorBox<Base: AsyncSequence & Sendable>: @unchecked Sendable where Base.Element == ByteBuffer {
        var iterator: DigestVerifyingSequence<Base>.AsyncIterator
        init(_ iterator: DigestVerifyingSequence<Base>.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> ByteBuffer? { try await iterator.next() }
    }

    /// The digest a key names, for keys of verified blobs.
    static func digest(of key: ObjectKey) -> Digest? { ObjectKeyLayout.digest(ofBlob: key) }

    func remember(_ key: ObjectKey, size: Int64) {
        state.withLock { state in
            state.clock += 1
            if let old = state.entries[key] { state.bytes -= old.size }
            state.entries[key] = Entry(size: size, lastUse: state.clock)
            state.bytes += size
        }
    }

    fileprivate func forget(_ key: ObjectKey) {
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.size }
        }
    }

    /// Removes least recently used objects until the cache fits.
    func evictIfNeeded() async throws {
        while true {
            let victim: ObjectKey? = state.withLock { state in
                guard state.bytes > maxBytes, let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) else { return nil }
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.size
                state.statistics.evictions += 1
                Counter(label: "kura_cache_evictions_total").increment()
                return oldest.key
            }
            guard let victim else { return }
            _ = try await cache.delete(victim)
        }
    }

    // MARK: everything else goes to the remote

    public func stat(_ key: ObjectKey) async throws -> ObjectInfo? {
        if let size = state.withLock({ $0.entries[key]?.size }) { return ObjectInfo(key: key, size: size, modified: Date()) }
        return try await remote.stat(key)
    }

    public func put<Body: AsyncSequence & Sendable>(_ key: ObjectKey, body: Body) async throws -> Int64 where Body.Element == ByteBuffer {
        forget(key)
        _ = try await cache.delete(key)
        return try await remote.put(key, body: body)
    }

    public func delete(_ key: ObjectKey) async throws -> Bool {
        forget(key)
        _ = try await cache.delete(key)
        return try await remote.delete(key)
    }

    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        try await remote.list(prefix: prefix, startAfter: startAfter, limit: limit)
    }

    public func beginAppend(_ key: ObjectKey) async throws -> AppendHandle { try await remote.beginAppend(key) }

    /// The remote's URL: a deployment that redirects pulls sends clients to the object store.
    public func availableBytes() async throws -> Int64? { try await remote.availableBytes() }

    public func reclaimStaging(touchedBefore cutoff: Date, keep: @escaping @Sendable (ObjectKey) -> Bool) async throws -> StagingReclaimed {
        try await remote.reclaimStaging(touchedBefore: cutoff, keep: keep)
    }

    public func directReadURL(for key: ObjectKey, expires: Duration) async throws -> URL? {
        try await remote.directReadURL(for: key, expires: expires)
    }

    public func appendPart(_ handle: AppendHandle, number: Int, offset: Int64, data: ByteBuffer) async throws -> AppendedPart {
        try await remote.appendPart(handle, number: number, offset: offset, data: data)
    }

    public func syncAppend(_ handle: AppendHandle) async throws { try await remote.syncAppend(handle) }

    public func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64) async throws {
        try await remote.completeAppend(handle, parts: parts, size: size)
    }

    public func abortAppend(_ handle: AppendHandle) async throws { try await remote.abortAppend(handle) }

    public func removeEmptyFolder(prefix: String) async throws { try await remote.removeEmptyFolder(prefix: prefix) }

    public func publish(_ staged: ObjectKey, to key: ObjectKey) async throws -> PublishOutcome {
        let outcome = try await remote.publish(staged, to: key)
        if keepWrites, outcome == .created, let info = try await remote.stat(key), info.size <= maxBytes / 4 {
            // Pull it through once so the next reader hits the cache.
            for try await _ in try await get(key, range: nil).body {}
        }
        return outcome
    }
}
