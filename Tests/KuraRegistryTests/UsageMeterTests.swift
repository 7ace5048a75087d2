import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import Synchronization
import Testing

/// The in-memory usage meter: requests add up per hourly bucket, a flush writes them in one
/// batch, and a failed flush keeps them for the next.
@Suite struct UsageMeterTests {
    /// A usage store that fails while `failing` is set and keeps what it was given.
    final class RecordingStore: UsageStore, Sendable {
        let failing = Mutex(false)
        let batches = Mutex<[[UsageBucket: UsageCounts]]>([])

        struct Unavailable: Error {}

        func addUsage(_ counts: [UsageBucket: UsageCounts]) async throws {
            if failing.withLock({ $0 }) { throw Unavailable() }
            batches.withLock { $0.append(counts) }
        }
        func usage(_ query: UsageQuery) async throws -> [UsageRecord] { [] }
        func storage(namespace: String?) async throws -> [NamespaceStorage] { [] }
        func globalPhysicalBytes() async throws -> Int64 { 0 }
        func openUploadCount() async throws -> Int64 { 0 }
        func lastPulls(of repositories: [RepositoryName]) async throws -> [RepositoryName: Date] { [:] }
    }

    @Test func failedFlushKeepsCountsForTheNext() async throws {
        let store = RecordingStore()
        let meter = UsageMeter(store: store)
        let at = Date(timeIntervalSince1970: 1_764_403_200 + 125)
        let nextHour = at.addingTimeInterval(3600)
        meter.record(namespace: "team", repository: "team/app", accessKeyID: "K", kind: .blobPull, counts: .init(calls: 1, bytesOut: 10), at: at)
        meter.record(namespace: "team", repository: "team/app", accessKeyID: "K", kind: .blobPull, counts: .init(calls: 1, bytesOut: 5), at: at)
        store.failing.withLock { $0 = true }
        await #expect(throws: RecordingStore.Unavailable.self) { try await meter.flush() }
        #expect(store.batches.withLock { $0.isEmpty })
        // Counted while the catalog was down: added to what was kept.
        meter.record(namespace: "team", repository: "team/app", accessKeyID: "K", kind: .blobPull, counts: .init(calls: 1, bytesOut: 1), at: at)
        meter.record(namespace: "team", repository: "team/app", accessKeyID: "K", kind: .blobPull, counts: .init(calls: 1), at: nextHour)
        store.failing.withLock { $0 = false }
        try await meter.flush()
        let hour = UsageBucket.hourStart(of: at)
        let key = UsageBucket(hour: hour, namespace: "team", repository: "team/app", accessKeyID: "K", kind: .blobPull)
        var next = key
        next.hour = hour.addingTimeInterval(3600)
        #expect(store.batches.withLock { $0 } == [[key: UsageCounts(calls: 3, bytesOut: 16), next: UsageCounts(calls: 1)]])
        // Nothing left: the next flush writes nothing.
        try await meter.flush()
        #expect(store.batches.withLock { $0.count } == 1)
    }
}
