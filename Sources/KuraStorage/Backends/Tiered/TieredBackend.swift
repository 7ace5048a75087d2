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
    /// How far the cache's copy of a miss may fall behind the client's stream before it is
    /// given up (the next read fills again), so the copy never slows the client.
    public let fillLagBytes: Int
    fileprivate let state = Mutex(State())

    public var name: String { "tiered" }
    /// How much of a fill is gathered before it is written to the cache.
    static let fillBatchBytes = 1 << 20
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
                // dropped (the next read refetches it) and never reaches a client whole.
                if range == nil, let digest = Self.digest(of: key) {
                    let checked = DigestVerifyingSequence(read.body, digest: digest, hooks: .init(failed: { [self] error in
                        guard error is DigestVerificationError else { return nil }
                        forget(key)
                        _ = try? await cache.delete(key)
                        state.withLock { $0.statistics.corruptCopies += 1 }
                        Counter(label: "kura_cache_corrupt_total").increment()
                        return StorageError.backend("cached copy of \(key) is corrupt; dropped")
                    }))
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

    /// Passes `body` through while a copy fills the cache beside it (``CacheCopy``); keeps the
    /// copy only when complete and (for blobs) verified. Pull-based, so a slow reader slows
    /// the remote read (nothing piles up in memory); the last chunk is held back until the
    /// check passed.
    private func filling(_ key: ObjectKey, size: Int64, from body: ObjectBody) -> ObjectBody {
        let copy = CacheCopy(key: key, size: size, owner: self)
        let verified = DigestVerifyingSequence(
            body, digest: Self.digest(of: key),
            hooks: .init(
                received: { await copy.add($0) }, verified: { try await copy.keep() },
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

    /// The cache's copy of one fill in progress. The client's stream only hands each chunk
    /// over (``add(_:)`` never waits on the cache's disk); a writer task beside it writes the
    /// copy in batches of ``TieredBackend/fillBatchBytes``. When the copy falls more than
    /// ``TieredBackend/fillLagBytes`` behind (a cache disk slower than the remote), it is given
    /// up rather than slowing the client: the next read fills again. Hashing stays in the
    /// stream (``DigestVerifyingSequence``), so the last chunk still waits for the check.
    /// The hooks call in one at a time, hence the unchecked state.
    private final class CacheCopy: @unchecked Sendable {
        let key: ObjectKey
        let size: Int64
        let owner: TieredBackend
        private var chunks: AsyncStream<ByteBuffer>.Continuation?
        private var writer: Task<WrittenCopy?, Never>?
        private let progress = FillProgress()
        private var received: Int64 = 0
        private var finished = false

        /// What the stream and the writer share.
        final class FillProgress: Sendable {
            /// Bytes handed to the writer and not yet written.
            let behind = Atomic<Int>(0)
            let givenUp = Atomic<Bool>(false)
        }

        /// A complete staging copy, ready to publish.
        struct WrittenCopy: Sendable {
            let handle: AppendHandle
            let staging: ObjectKey
            let bytes: Int64
        }

        init(key: ObjectKey, size: Int64, owner: TieredBackend) {
            self.key = key
            self.size = size
            self.owner = owner
        }

        deinit {
            // A reader that stopped early: the writer drops the partial copy.
            if !finished {
                progress.givenUp.store(true, ordering: .relaxed)
                chunks?.finish()
                owner.state.withLock { _ = $0.filling.remove(key) }
            }
        }

        private func startWriter() {
            guard writer == nil else { return }
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            chunks = continuation
            let (owner, progress) = (owner, progress)
            writer = Task {
                guard let staging = try? ObjectKeyLayout.fillStaging(UUID().uuidString.lowercased()),
                    let handle = try? await owner.cache.beginAppend(staging)
                else {
                    progress.givenUp.store(true, ordering: .relaxed)  // no copy this time; the read goes on
                    return nil
                }
                var pending = ByteBuffer()
                var written: Int64 = 0
                // A failed write costs the copy, never the read.
                func flush() async -> Bool {
                    guard pending.readableBytes > 0 else { return true }
                    do {
                        _ = try await owner.cache.appendPart(handle, number: 1, offset: written, data: pending)
                    } catch {
                        return false
                    }
                    written += Int64(pending.readableBytes)
                    progress.behind.subtract(pending.readableBytes, ordering: .relaxed)
                    pending.clear()
                    return true
                }
                for await chunk in stream {
                    if progress.givenUp.load(ordering: .relaxed) { break }
                    pending.writeImmutableBuffer(chunk)
                    if pending.readableBytes >= TieredBackend.fillBatchBytes, !(await flush()) {
                        progress.givenUp.store(true, ordering: .relaxed)
                        break
                    }
                }
                guard !progress.givenUp.load(ordering: .relaxed), await flush() else {
                    try? await owner.cache.abortAppend(handle)
                    return nil
                }
                return WrittenCopy(handle: handle, staging: staging, bytes: written)
            }
        }

        /// Hands a chunk to the writer, or gives the copy up when the writer is too far behind.
        func add(_ chunk: ByteBuffer) async {
            startWriter()
            received += Int64(chunk.readableBytes)
            guard !progress.givenUp.load(ordering: .relaxed) else { return }
            let lag = progress.behind.add(chunk.readableBytes, ordering: .relaxed).newValue
            guard lag <= owner.fillLagBytes else {
                giveUp()
                owner.state.withLock { $0.statistics.abandonedFills += 1 }
                Counter(label: "kura_cache_abandoned_fills_total").increment()
                return
            }
            chunks?.yield(chunk)
        }

        private func giveUp() {
            progress.givenUp.store(true, ordering: .relaxed)
            chunks?.finish()
        }

        /// The content checked out: keep the copy if it is whole. A failure to keep it costs
        /// only the cache entry, never the read.
        func keep() async throws {
            finished = true
            defer { owner.state.withLock { _ = $0.filling.remove(key) } }
            startWriter()  // an empty object has had no chunk
            chunks?.finish()
            guard let copy = await writer?.value else { return }
            guard received == size, copy.bytes == size else {
                try? await owner.cache.abortAppend(copy.handle)
                return
            }
            do {
                try await owner.cache.completeAppend(copy.handle, parts: [], size: size)
                _ = try await owner.cache.publish(copy.staging, to: key)
                owner.remember(key, size: size)
                owner.state.withLock { $0.statistics.fills += 1 }
                Counter(label: "kura_cache_fills_total").increment()
                try await owner.evictIfNeeded()
            } catch {
                try? await owner.cache.abortAppend(copy.handle)
            }
        }

        /// The remote read failed, or its bytes are not the blob's: no copy.
        func drop(after error: any Error) async -> (any Error)? {
            finished = true
            giveUp()
            if let copy = await writer?.value { try? await owner.cache.abortAppend(copy.handle) }
            owner.state.withLock { _ = $0.filling.remove(key) }
            guard error is DigestVerificationError else { return nil }
            owner.state.withLock { $0.statistics.rejectedFills += 1 }
            Counter(label: "kura_cache_rejected_fills_total").increment()
            return StorageError.backend("remote object \(key) does not match its digest")
        }
    }

    /// The digest a key names, for keys of verified blobs.
    static func digest(of key: ObjectKey) -> Digest? { ObjectKeyLayout.digest(ofBlob: key) }

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

    public func appendPart(_ handle: AppendHandle, number: Int, offset: Int64, pieces: [ByteBuffer]) async throws -> AppendedPart {
        try await remote.appendPart(handle, number: number, offset: offset, pieces: pieces)
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
