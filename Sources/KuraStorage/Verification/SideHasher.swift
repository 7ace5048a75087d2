import KuraCore
import NIOCore
import Synchronization

/// Hashes bytes on a task of its own, beside the stream that carries them, so the stream
/// does not wait for the hash of each buffer, only for the final digest.
///
/// The buffers are shared, not copied. At most `maxLag` bytes wait to be hashed: past that,
/// ``add(_:)`` waits until the hasher has caught up, so a hasher slower than the stream costs
/// speed, never unbounded memory.
final class SideHasher: Sendable {
    private struct Lag {
        var bytes = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// What the stream and the hashing task share.
    private final class Backlog: Sendable {
        let state = Mutex(Lag())
    }

    private let batches: AsyncStream<[ByteBuffer]>.Continuation
    private let result: Task<Digest, Never>
    private let backlog = Backlog()
    private let maxLag: Int

    init(_ algorithm: DigestAlgorithm, maxLag: Int) {
        let (stream, batches) = AsyncStream<[ByteBuffer]>.makeStream()
        let backlog = self.backlog
        self.batches = batches
        self.maxLag = maxLag
        self.result = Task {
            var hasher = ContentHasher(algorithm)
            for await batch in stream {
                var bytes = 0
                for buffer in batch {
                    hasher.update(buffer)
                    bytes += buffer.readableBytes
                }
                let waiter = backlog.state.withLock { lag -> CheckedContinuation<Void, Never>? in
                    lag.bytes -= bytes
                    guard lag.bytes <= maxLag, let waiter = lag.waiter else { return nil }
                    lag.waiter = nil
                    return waiter
                }
                waiter?.resume()
            }
            return hasher.finalize()
        }
    }

    deinit { batches.finish() }

    /// Queues buffers for hashing; waits only while more than `maxLag` bytes are queued.
    func add(_ batch: [ByteBuffer]) async {
        let bytes = batch.reduce(0) { $0 + $1.readableBytes }
        guard bytes > 0 else { return }
        let behind = backlog.state.withLock { lag in
            lag.bytes += bytes
            return lag.bytes > maxLag
        }
        batches.yield(batch)
        guard behind else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let caughtUp = backlog.state.withLock { lag in
                guard lag.bytes > maxLag else { return true }
                lag.waiter = continuation
                return false
            }
            if caughtUp { continuation.resume() }
        }
    }

    /// The digest of everything added; no more may be added.
    func finish() async -> Digest {
        batches.finish()
        return await result.value
    }

    /// Stops hashing (the bytes will not be checked).
    func cancel() { batches.finish() }
}
