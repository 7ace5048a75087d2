import Synchronization

/// A counter shared by concurrent workers.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// Returns the current value and increments it.
    func next() -> Int { value.withLock { v in defer { v += 1 }; return v } }
}
