import KuraCore
import Synchronization

/// Serialises work per key inside one process (for example, chunks of one upload session),
/// letting work on different keys run in parallel.
///
/// A holder that is waiting on its client (reading a request body inside
/// ``LockLease/interruptible(_:)``) gives way to the next claimant of the key: it is
/// cancelled, so a client's retry is never stuck behind its own stalled request.
actor KeyedLock {
    private var holders: [String: LockLease] = [:]
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @escaping @Sendable (LockLease) async throws -> T) async throws -> T {
        await acquire(key)
        let lease = LockLease()
        holders[key] = lease
        // Its own task, so a newer claimant can cancel it; cancelling the caller cancels it too.
        let work = Task { try await body(lease) }
        lease.setCancel { work.cancel() }
        defer { release(key) }
        return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
    }

    private func acquire(_ key: String) async {
        guard holders[key] != nil || waiters[key] != nil else {
            holders[key] = LockLease()
            return
        }
        holders[key]?.interrupt()
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    private func release(_ key: String) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            holders[key] = LockLease()  // ownership passes to the waiter; the key stays held
            next.resume()
        } else {
            holders[key] = nil
        }
    }
}

/// A holder's side of ``KeyedLock``: marks where it may be interrupted.
final class LockLease: Sendable {
    private struct State {
        var interruptible = false
        var interrupted = false
        var cancel: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    fileprivate func setCancel(_ cancel: @escaping @Sendable () -> Void) {
        let cancelNow = state.withLock { state in
            state.cancel = cancel
            return state.interrupted
        }
        if cancelNow { cancel() }
    }

    /// Asks the holder to give way; only takes effect while it is interruptible.
    fileprivate func interrupt() {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.interruptible, !state.interrupted else { return nil }
            state.interrupted = true
            return state.cancel
        }
        cancel?()
    }

    /// Runs `body` (waiting on a client) so that a newer claimant of the key may cancel it;
    /// throws a `409` ``RegistryError`` when that happened, even if `body` finished regardless.
    func interruptible<T>(_ body: () async throws -> T) async throws -> T {
        state.withLock { $0.interruptible = true }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        let interrupted = state.withLock { state in
            state.interruptible = false
            return state.interrupted
        }
        if interrupted {
            throw RegistryError(.blobUploadInvalid, "interrupted: a newer request on this upload session took over", status: 409)
        }
        return try result.get()
    }
}
