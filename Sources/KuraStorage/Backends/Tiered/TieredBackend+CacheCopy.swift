import Foundation
import KuraCore
import Metrics
import NIOCore
import Synchronization

extension TieredBackend {
    /// The cache's copy of one fill in progress, and the check of its bytes. The client's
    /// stream only hands chunks over (in batches of ``TieredBackend/fillHandOffBytes``): a
    /// ``SideHasher`` hashes them and a writer task writes the copy in batches of
    /// ``TieredBackend/fillBatchBytes``, both beside the stream. The stream's last chunk waits
    /// for ``verifyAndKeep()``, so the client never gets the last byte of content that does
    /// not hash to its digest. When the copy falls more than ``TieredBackend/fillLagBytes``
    /// behind (a cache disk slower than the remote), it is given up rather than slowing the
    /// client (the next read fills again); the hash is never given up.
    /// The hooks call in one at a time, hence the unchecked state.
    final class CacheCopy: @unchecked Sendable {
        let key: ObjectKey
        let size: Int64
        let digest: Digest?
        let owner: TieredBackend
        private let hasher: SideHasher?
        private var chunks: AsyncStream<[ByteBuffer]>.Continuation?
        private var writer: Task<WrittenCopy?, Never>?
        private let progress = FillProgress()
        private var handOff: [ByteBuffer] = []
        private var handOffBytes = 0
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

        init(key: ObjectKey, size: Int64, digest: Digest?, owner: TieredBackend) {
            self.key = key
            self.size = size
            self.digest = digest
            self.owner = owner
            self.hasher = digest.map { SideHasher($0.algorithm, maxLag: TieredBackend.fillHashLagBytes) }
        }

        deinit {
            // A reader that stopped early: the writer drops the partial copy.
            if !finished {
                hasher?.cancel()
                progress.givenUp.store(true, ordering: .relaxed)
                chunks?.finish()
                owner.state.withLock { _ = $0.filling.remove(key) }
            }
        }

        private func startWriter() {
            guard writer == nil else { return }
            let (stream, continuation) = AsyncStream<[ByteBuffer]>.makeStream()
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
                for await batch in stream {
                    if progress.givenUp.load(ordering: .relaxed) { break }
                    for chunk in batch { pending.writeImmutableBuffer(chunk) }
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

        /// Takes a chunk of the client's stream; hands a batch on once enough has gathered.
        func add(_ chunk: ByteBuffer) async {
            received += Int64(chunk.readableBytes)
            handOff.append(chunk)
            handOffBytes += chunk.readableBytes
            if handOffBytes >= TieredBackend.fillHandOffBytes { await handOn() }
        }

        /// Hands the gathered batch to the hasher and the writer, or gives the copy up when the
        /// writer is too far behind.
        private func handOn() async {
            startWriter()
            guard !handOff.isEmpty else { return }
            let (batch, bytes) = (handOff, handOffBytes)
            handOff = []
            handOffBytes = 0
            await hasher?.add(batch)
            guard !progress.givenUp.load(ordering: .relaxed) else { return }
            let lag = progress.behind.add(bytes, ordering: .relaxed).newValue
            guard lag <= owner.fillLagBytes else {
                giveUp()
                owner.state.withLock { $0.statistics.abandonedFills += 1 }
                Counter(label: "kura_cache_abandoned_fills_total").increment()
                return
            }
            chunks?.yield(batch)
        }

        private func giveUp() {
            progress.givenUp.store(true, ordering: .relaxed)
            chunks?.finish()
        }

        /// The stream ended: checks the content against its digest (throwing
        /// ``DigestVerificationError`` if it differs), then keeps the copy if it is whole. A
        /// failure to keep it costs only the cache entry, never the read.
        func verifyAndKeep() async throws {
            await handOn()  // the rest, and starts the writer for an empty object
            if let digest, let hasher {
                let actual = await hasher.finish()
                guard actual == digest else { throw DigestVerificationError.digestMismatch(expected: digest, actual: actual) }
            }
            finished = true
            defer { owner.state.withLock { _ = $0.filling.remove(key) } }
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
            hasher?.cancel()
            giveUp()
            if let copy = await writer?.value { try? await owner.cache.abortAppend(copy.handle) }
            owner.state.withLock { _ = $0.filling.remove(key) }
            guard error is DigestVerificationError else { return nil }
            owner.state.withLock { $0.statistics.rejectedFills += 1 }
            Counter(label: "kura_cache_rejected_fills_total").increment()
            return StorageError.backend("remote object \(key) does not match its digest")
        }
    }
}
