import NIOCore
import NIOPosix
import Synchronization

/// A blocking write handed to ``BlockingIO``'s pool from synchronous code and awaited later,
/// so that the caller can hash the same bytes meanwhile.
///
/// An `async let` around an async write costs a child task and a hop through the concurrency
/// pool before the write starts, and another when it ends; on two vCPUs those hand-offs cost
/// more than a 1 MiB `pwrite` to tmpfs. Here the write starts with one wake-up of a pool
/// thread, and awaiting a write that has already ended does not suspend.
final class SubmittedWrite<Value: Sendable>: Sendable {
    private enum State {
        case running
        case awaited(CheckedContinuation<Value, any Error>)
        case finished(Result<Value, any Error>)
    }

    private let state = Mutex<State>(.running)

    /// Runs `body` on the pool.
    init(_ body: @Sendable @escaping () throws -> Value) {
        BlockingIO.pool.submit { [self] poolState in
            guard case .active = poolState else {
                finish(.failure(StorageError.unavailable("the blocking I/O pool has stopped")))
                return
            }
            finish(Result { try body() })
        }
    }

    private func finish(_ result: Result<Value, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            defer { state = .finished(result) }
            if case .awaited(let continuation) = state { return continuation }
            return nil
        }
        waiter?.resume(with: result)
    }

    /// What the write returned or threw; awaited once (a second waiter would replace the
    /// first). Waits for the write even if the calling task is cancelled: the bytes it writes
    /// are the caller's until it ends.
    func value() async throws -> Value {
        if case .finished(let result) = state.withLock({ $0 }) { return try result.get() }
        return try await withCheckedThrowingContinuation { continuation in
            let finished = state.withLock { state -> Result<Value, any Error>? in
                if case .finished(let result) = state { return result }
                state = .awaited(continuation)
                return nil
            }
            if let finished { continuation.resume(with: finished) }
        }
    }
}

/// A backend whose parts can start from synchronous code (``SubmittedWrite``); ``PartWriter``
/// hashes a part while it is written either way, and for these without a child task.
protocol SubmitsParts: ObjectBackend {
    /// Starts writing `data`, the buffers one after another, as part `number` at `offset` and
    /// returns at once; the same contract as ``ObjectBackend/appendPart(_:number:offset:data:)``
    /// otherwise. The buffers are the connection's reads as they came, so no part is copied
    /// to be written.
    func submitPart(_ handle: AppendHandle, number: Int, offset: Int64, data: [ByteBuffer]) -> SubmittedWrite<AppendedPart>
}
