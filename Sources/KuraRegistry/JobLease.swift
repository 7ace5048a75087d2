public import Foundation
public import KuraMetadata

/// A lease in the catalog (`gc_job_locks`: holder and expiry) that one runner at a time
/// holds, across the processes and nodes sharing the catalog. The holder renews it while it
/// works; a holder that dies loses it when it expires.
public enum JobLease {
    /// Who is asking: host, process and a random part (two nodes in one process differ).
    public static func makeOwner() -> String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
    }

    /// Runs `body` holding lease `name` (renewed every third of `ttl`, released after), or
    /// returns `nil` without running it when another owner holds the lease.
    public static func hold<T: Sendable>(
        _ store: any GarbageCollectionStore, name: String, owner: String, ttl: TimeInterval, _ body: @Sendable () async throws -> T
    ) async throws -> Held<T>? {
        guard try await store.acquireJobLock(name, owner: owner, ttl: ttl) else { return nil }
        let renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(1, ttl / 3)))
                if Task.isCancelled { break }
                _ = try? await store.acquireJobLock(name, owner: owner, ttl: ttl)
            }
        }
        defer { renewal.cancel() }
        do {
            let result = try await body()
            try await store.releaseJobLock(name, owner: owner)
            return Held(value: result)
        } catch {
            try? await store.releaseJobLock(name, owner: owner)
            throw error
        }
    }

    /// What `body` returned under the lease.
    public struct Held<T: Sendable>: Sendable { public let value: T }

    /// Claims this round of a job scheduled every `interval` on every node: true for the first
    /// node to ask, false for the others until 90 % of the interval has passed. The claim is
    /// a lease that is never released, only left to expire, so nodes whose schedules fall in
    /// the same minute (or anywhere in the same interval) run the job once. `owner` is the
    /// scheduler's own, constant name: the node that ran the last round may claim the next.
    /// A node that dies after its claim leaves that round undone; the next round runs.
    public static func claimRound(
        _ store: any GarbageCollectionStore, job: String, owner: String, interval: TimeInterval
    ) async throws -> Bool {
        try await store.acquireJobLock("schedule:\(job)", owner: owner, ttl: interval * 0.9)
    }
}
