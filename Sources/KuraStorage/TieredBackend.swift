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
    /// `kura_cache_{hits,misses,evictions,fills,rejected_fills}_total` and
    /// `kura_cache_bytes_total{source=cache|remote}`.
    public struct Statistics: Sendable, Hashable {
        public var hits = 0
        public var misses = 0
        public var bytesFromCache: Int64 = 0
        public var bytesFromRemote: Int64 = 0
        public var evictions = 0
        public var fills = 0
        public var rejectedFills = 0
        /// Cached copies found damaged on read (and dropped).
        public var corruptCopies = 0
    }

    fileprivate struct Entry {
        var size: Int64
        var lastUse: UInt64
    }

    fileprivate struct State {
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
    fileprivate let state = Mutex(State())

    public var name: String { "tiered" }
    /// How much of a fill is gathered before it is written to the cache.
    static let fillBatchBytes = 1 << 20
    public var minimumPartSize: Int { remote.minimumPartSize }
    public var preferredPartSize: Int { remote.preferredPartSize }

    /// - Parameters:
    ///   - cacheDirectory: the local folder (created); its contents are a cache only.
    ///   - maxBytes: the most bytes the cache keeps.
    public init(remote: any ObjectBackend, cacheDirectory: String, maxBytes: Int64, keepWrites: Bool = false) async throws {
        self.remote = remote
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
                // dropped (the next read refetches it) and never reaches a client whole.
                if range == nil, let digest = Self.digest(of: key) {
                    let check = CachedBlobCheck(key: key, digest: digest, body: read.body, owner: self)
                    return ObjectRead(size: read.size, range: read.range, body: ObjectBody(unfolding: { try await check.next() }))
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

    /// Passes `body` through while writing a copy into the cache; keeps the copy only when
    /// complete and (for blobs) verified. Pull-based, so a slow reader slows the remote read
    /// (nothing piles up in memory); the last chunk is held back until the check passed.
    private func filling(_ key: ObjectKey, size: Int64, from body: ObjectBody) -> ObjectBody {
        let fill = Fill(key: key, size: size, body: body, owner: self)
        return ObjectBody(unfolding: { try await fill.next() })
    }

    /// One fill in progress. `next()` is called by one consumer at a time (the unfolding
    /// stream never overlaps calls), which is what makes the unchecked state safe.
    private final class Fill: @unchecked Sendable {
        let key: ObjectKey
        let size: Int64
        let owner: TieredBackend
        var iterator: ObjectBody.AsyncIterator
        var handle: AppendHandle?
        var staging: ObjectKey?
        var hasher: ContentHasher?
        var offset: Int64 = 0
        /// Bytes read but not yet written to the copy, and bytes written.
        var pending = ByteBuffer()
        var written: Int64 = 0
        var held: ByteBuffer?
        var started = false
        var finished = false

        init(key: ObjectKey, size: Int64, body: ObjectBody, owner: TieredBackend) {
            self.key = key
            self.size = size
            self.owner = owner
            self.iterator = body.makeAsyncIterator()
            self.hasher = TieredBackend.digest(of: key).map { ContentHasher($0.algorithm) }
        }

        deinit {
            // A reader that stopped early: drop the partial copy.
            if !finished {
                let (owner, key, handle) = (owner, key, handle)
                Task {
                    if let handle { try? await owner.cache.abortAppend(handle) }
                    owner.state.withLock { _ = $0.filling.remove(key) }
                }
            }
        }

        /// Reads a chunk from the remote and adds it to the copy. The copy is written in
        /// batches of ``TieredBackend/fillBatchBytes``: a remote delivers small chunks, and a
        /// write per chunk (a thread hop and a syscall each) halved a cold pull's speed.
        private func pull() async throws -> ByteBuffer? {
            guard let chunk = try await iterator.next() else { return nil }
            hasher?.update(chunk)
            offset += Int64(chunk.readableBytes)
            if handle != nil {
                pending.writeImmutableBuffer(chunk)
                if pending.readableBytes >= TieredBackend.fillBatchBytes { await flush() }
            }
            return chunk
        }

        /// Writes the batch to the copy. A failed write costs the copy, never the read.
        private func flush() async {
            guard let handle, pending.readableBytes > 0 else { return }
            do {
                _ = try await owner.cache.appendPart(handle, number: 1, offset: written, data: pending)
                written += Int64(pending.readableBytes)
                pending.clear()
            } catch {
                try? await owner.cache.abortAppend(handle)
                self.handle = nil
                pending = ByteBuffer()
            }
        }

        func next() async throws -> ByteBuffer? {
            if finished { return nil }
            do {
                if !started {
                    started = true
                    let staging = try ObjectKey("fill/\(UUID().uuidString.lowercased())")
                    self.staging = staging
                    handle = try await owner.cache.beginAppend(staging)
                    held = try await pull()
                }
                if let upcoming = try await pull() {
                    defer { held = upcoming }
                    return held
                }
                // `held` is the last chunk (or nil for an empty object): check, keep, then send.
                try await complete()
                finished = true
                return held
            } catch {
                finished = true
                if let handle { try? await owner.cache.abortAppend(handle) }
                owner.state.withLock { _ = $0.filling.remove(key) }
                throw error
            }
        }

        private func complete() async throws {
            defer { owner.state.withLock { _ = $0.filling.remove(key) } }
            await flush()
            guard let handle, let staging else { return }
            if let expected = TieredBackend.digest(of: key), let hasher, hasher.finalize() != expected {
                try? await owner.cache.abortAppend(handle)
                owner.state.withLock { $0.statistics.rejectedFills += 1 }
                Counter(label: "kura_cache_rejected_fills_total").increment()
                throw StorageError.backend("remote object \(key) does not match its digest")
            }
            guard offset == size, written == size else {
                try? await owner.cache.abortAppend(handle)
                return
            }
            // A failure to keep the copy costs only the cache entry, never the read.
            do {
                try await owner.cache.completeAppend(handle, parts: [], size: size)
                _ = try await owner.cache.publish(staging, to: key)
                owner.remember(key, size: size)
                owner.state.withLock { $0.statistics.fills += 1 }
                Counter(label: "kura_cache_fills_total").increment()
                try await owner.evictIfNeeded()
            } catch {
                try? await owner.cache.abortAppend(handle)
            }
        }
    }

    /// Streams a cached blob while hashing it, holding back the last chunk until the digest
    /// matched. Calls to `next()` never overlap (unfolding stream), hence the unchecked state.
    private final class CachedBlobCheck: @unchecked Sendable {
        let key: ObjectKey
        let digest: Digest
        let owner: TieredBackend
        var iterator: ObjectBody.AsyncIterator
        var hasher: ContentHasher
        var held: ByteBuffer?
        var started = false
        var finished = false

        init(key: ObjectKey, digest: Digest, body: ObjectBody, owner: TieredBackend) {
            self.key = key
            self.digest = digest
            self.owner = owner
            self.iterator = body.makeAsyncIterator()
            self.hasher = ContentHasher(digest.algorithm)
        }

        private func pull() async throws -> ByteBuffer? {
            guard let chunk = try await iterator.next() else { return nil }
            hasher.update(chunk)
            return chunk
        }

        func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if !started {
                started = true
                held = try await pull()
            }
            if let upcoming = try await pull() {
                defer { held = upcoming }
                return held
            }
            finished = true
            guard hasher.finalize() == digest else {
                owner.forget(key)
                _ = try? await owner.cache.delete(key)
                owner.state.withLock { $0.statistics.corruptCopies += 1 }
                Counter(label: "kura_cache_corrupt_total").increment()
                throw StorageError.backend("cached copy of \(key) is corrupt; dropped")
            }
            return held
        }
    }

    /// The digest a key names, for keys of verified blobs.
    static func digest(of key: ObjectKey) -> Digest? {
        let parts = key.value.split(separator: "/")
        guard parts.count == 4, parts[0] == "blobs" else { return nil }
        return try? Digest(parsing: "\(parts[1]):\(parts[3])")
    }

    fileprivate func remember(_ key: ObjectKey, size: Int64) {
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
    fileprivate func evictIfNeeded() async throws {
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
