public import Foundation
public import KuraMetadata
import Synchronization

/// Counts usage in memory and writes it to the catalog in batches, so metering adds no
/// catalog write to a request. Call ``flush()`` every few seconds and on shutdown; a
/// failed write keeps its counts for the next flush.
public final class UsageMeter: Sendable {
    public let store: any UsageStore
    private let pending = Mutex<[UsageBucket: UsageCounts]>([:])
    private let flushes = FlushQueue()

    public init(store: any UsageStore) {
        self.store = store
    }

    /// Adds one metered request to its hour's bucket.
    public func record(
        namespace: String, repository: String, accessKeyID: String, kind: UsageKind, counts: UsageCounts, at date: Date = Date()
    ) {
        let bucket = UsageBucket(
            hour: UsageBucket.hourStart(of: date), namespace: namespace, repository: repository, accessKeyID: accessKeyID, kind: kind)
        pending.withLock { $0[bucket, default: UsageCounts()] += counts }
    }

    /// Writes what was counted so far. Flushes run one after another, so once this returns
    /// everything recorded before the call is in the catalog.
    public func flush() async throws {
        try await flushes.run { [self] in
            let batch = pending.withLock { counts in
                defer { counts = [:] }
                return counts
            }
            guard !batch.isEmpty else { return }
            do {
                try await store.addUsage(batch)
            } catch {
                pending.withLock { counts in
                    for (bucket, count) in batch { counts[bucket, default: UsageCounts()] += count }
                }
                throw error
            }
        }
    }
}

/// Runs operations strictly one after another (an actor alone would interleave them at
/// their suspension points).
private actor FlushQueue {
    private var last: Task<Void, any Error>?

    func run(_ operation: @escaping @Sendable () async throws -> Void) async throws {
        let previous = last
        let task = Task {
            _ = await previous?.result
            try await operation()
        }
        last = task
        try await task.value
    }
}
