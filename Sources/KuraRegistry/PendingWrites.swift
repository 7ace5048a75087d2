import Synchronization

/// Values gathered in memory by key until a batch write takes them all; a failed write
/// puts its batch back, merged with what came in meanwhile. The usage meter's counts and
/// its pulls are kept this way, so a request adds no catalog write.
final class PendingWrites<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let pending = Mutex<[Key: Value]>([:])
    /// Combines a value already pending with a new one for the same key.
    private let merge: @Sendable (inout Value, Value) -> Void

    init(merge: @escaping @Sendable (inout Value, Value) -> Void) {
        self.merge = merge
    }

    func add(_ key: Key, _ value: Value) {
        pending.withLock { values in
            if values[key] == nil { values[key] = value } else { merge(&values[key]!, value) }
        }
    }

    /// Hands everything pending to `write` (nothing when there is nothing), keeping it for
    /// the next call if `write` throws.
    func flush(_ write: ([Key: Value]) async throws -> Void) async throws {
        let batch = pending.withLock { values in
            defer { values = [:] }
            return values
        }
        guard !batch.isEmpty else { return }
        do {
            try await write(batch)
        } catch {
            for (key, value) in batch { add(key, value) }
            throw error
        }
    }
}
