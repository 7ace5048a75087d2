import Dispatch
import Synchronization

/// A value that arrives once, from any thread, and that any number of waiters get: async
/// ones through a continuation (no thread blocked), synchronous ones through a semaphore.
final class Completion<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [@Sendable (Value) -> Void] = []
    }

    private let state = Mutex(State())

    init() {}

    /// The value, or nil while it has not arrived.
    var value: Value? { state.withLock { $0.value } }

    /// Sets the value and wakes every waiter. Only the first call counts.
    func complete(_ value: Value) {
        let waiters = state.withLock { state -> [@Sendable (Value) -> Void] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter(value) }
    }

    /// Calls `waiter` with the value once it is there (at once if it is), outside the lock.
    func whenComplete(_ waiter: @escaping @Sendable (Value) -> Void) {
        let ready = state.withLock { state -> Value? in
            if state.value == nil { state.waiters.append(waiter) }
            return state.value
        }
        if let ready { waiter(ready) }
    }

    /// Suspends until the value is there. Not cancellable: the value is on its way anyway.
    func wait() async -> Value {
        if let ready = value { return ready }
        return await withCheckedContinuation { continuation in
            whenComplete { continuation.resume(returning: $0) }
        }
    }

    /// Blocks the calling thread until the value is there: for synchronous code only (an
    /// `atexit` handler, a `defer`), and only for what arrives promptly.
    func waitBlocking() -> Value {
        if let ready = value { return ready }
        let semaphore = DispatchSemaphore(value: 0)
        whenComplete { _ in semaphore.signal() }
        semaphore.wait()
        // Set before any waiter is called.
        return value!
    }
}
