import KuraCore
import Synchronization

/// Serialises work per key inside one process (for example, chunks of one upload session),
/// letting work on different keys run in parallel.
///
/// A holder that is waiting on its client (reading a request body inside
/// ``LockLease/interruptible(_:)``) gives way to the next claimant of the key: it is
/// cancelled, so a client's retry is never stuck behind its own stalled request. A claimant
/// that arrives while the holder has the key but is not reading yet (loading the session's
/// state) leaves the request on the lease: the holder gives way as soon as it would start
/// reading. (It used to be dropped, and the retry then waited for the stalled body's whole
/// timeout.)
actor KeyedLock {
    private var holders: [String: LockLease] = [:]
    private var waiters: [String: [CheckedContinuation<LockLease, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @escaping @Sendable (LockLease) async throws -> T) async throws -> T {
        let lease = await acquire(key)
        // Its own task, so a newer claimant can cancel it; cancelling the caller cancels it too.
        let work = Task { try await body(lease) }
        lease.setCancel { work.cancel() }
        defer { release(key) }
        return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
    }

    /// Whether the key's holder is inside ``LockLease/interruptible(_:)`` now (waiting on
    /// its client).
    func isHeldInterruptibly(_ key: String) -> Bool {
        holders[key]?.isInterruptible ?? false
    }

    /// Whether someone holds the key.
    func isHeld(_ key: String) -> Bool {
        holders[key] != nil
    }

    /// How many claimants wait for the key.
    func waiterCount(_ key: String) -> Int {
        waiters[key]?.count ?? 0
    }

    /// The lease of the key, once this caller holds it. The lease is made here (or handed
    /// over by ``release(_:)``), so an interrupt asked for meanwhile is never lost.
    private func acquire(_ key: String) async -> LockLease {
        guard let holder = holders[key] else {
            let lease = LockLease()
            holders[key] = lease
            return lease
        }
        holder.interrupt()
        return await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    private func release(_ key: String) {
        if var queue = waiters[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[key] = queue.isEmpty ? nil : queue
            // Ownership passes to the waiter; the key stays held.
            let lease = LockLease()
            holders[key] = lease
            // Newer claimants are waiting behind it: it gives way to them too.
            if !queue.isEmpty { lease.interrupt() }
            next.resume(returning: lease)
        } else {
            holders[key] = nil
        }
    }
}

/// A holder's side of ``KeyedLock``: marks where it may be interrupted.
final class LockLease: Sendable {
    fileprivate struct State {
        var interruptible = false
        /// A newer claimant asked the holder to give way (at once if interruptible, else
        /// when it becomes so).
        var interruptRequested = false
        var interrupted = false
        var cancel: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    fileprivate var isInterruptible: Bool { state.withLock { $0.interruptible } }

    fileprivate func setCancel(_ cancel: @escaping @Sendable () -> Void) {
        let cancelNow = state.withLock { state in
            state.cancel = cancel
            return state.interrupted
        }
        if cancelNow { cancel() }
    }

    /// Asks the holder to give way: at once while it is interruptible, otherwise as soon as
    /// it enters ``interruptible(_:)``.
    fileprivate func interrupt() {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            state.interruptRequested = true
            return state.interruptible ? state.interruptNow() : nil
        }
        cancel?()
    }

    /// Runs `body` (waiting on a client) so that a newer claimant of the key may cancel it;
    /// throws a `409` ``RegistryError`` when that happened, even if `body` finished regardless.
    func interruptible<T>(_ body: () async throws -> T) async throws -> T {
        let cancel = state.withLock { state -> (@Sendable () -> Void)? in
            state.interruptible = true
            return state.interruptRequested ? state.interruptNow() : nil
        }
        cancel?()
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

extension LockLease.State {
    /// Marks the lease interrupted (once) and returns what cancels its work.
    fileprivate mutating func interruptNow() -> (@Sendable () -> Void)? {
        guard !interrupted else { return nil }
        interrupted = true
        return cancel
    }
}
