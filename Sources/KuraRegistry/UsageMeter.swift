public import Foundation
public import KuraMetadata

/// Counts usage in memory and writes it to the catalog in batches, so metering adds no
/// catalog write to a request. Call ``flush()`` every few seconds and on shutdown; a
/// failed write keeps its counts for the next flush.
public final class UsageMeter: Sendable {
    public let store: any UsageStore
    private let pending = PendingWrites<UsageBucket, UsageCounts> { $0 += $1 }
    private let flushes = FlushQueue()
    /// The last pull of each tag, written on the same flush (registered as an event sink).
    public let pulls: PullRecorder

    public init(store: any UsageStore) {
        self.store = store
        pulls = PullRecorder(store: store)
    }

    /// Adds one metered request to its hour's bucket.
    public func record(
        namespace: String, repository: String, accessKeyID: String, kind: UsageKind, counts: UsageCounts, at date: Date = Date()
    ) {
        let bucket = UsageBucket(
            hour: UsageBucket.hourStart(of: date), namespace: namespace, repository: repository, accessKeyID: accessKeyID, kind: kind)
        pending.add(bucket, counts)
    }

    /// Writes what was counted so far, and the pulls recorded. Flushes run one after
    /// another, so once this returns everything recorded before the call is in the catalog.
    public func flush() async throws {
        try await flushes.run { [self] in
            // The pulls are written even when the counts fail, and the other way round.
            var pullError: (any Error)?
            do { try await pulls.flush() } catch { pullError = error }
            try await pending.flush { try await store.addUsage($0) }
            if let pullError { throw pullError }
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
