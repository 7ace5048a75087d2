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
        func logicalBytes(of repositories: [RepositoryName]) async throws -> [RepositoryName: Int64] { [:] }
        let pullBatches = Mutex<[[ManifestPull: Date]]>([])
        func recordPulls(_ pulls: [ManifestPull: Date]) async throws {
            if failing.withLock({ $0 }) { throw Unavailable() }
            pullBatches.withLock { $0.append(pulls) }
        }
        func recordStorageSamples(_ samples: [StorageSample]) async throws {}
        func storageSamples(namespace: String, from: Date, to: Date) async throws -> [StorageSample] { [] }
        func lastPulls(of tags: [KuraCore.Tag], in repository: RepositoryName) async throws -> [KuraCore.Tag: Date] { [:] }
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

    @Test func pullsKeepTheLatestTimeUntilAFlushWritesThem() async throws {
        let store = RecordingStore()
        let meter = UsageMeter(store: store)
        let app = try RepositoryName(parsing: "team/app")
        let t0 = Date(timeIntervalSince1970: 1_764_403_200), t1 = t0.addingTimeInterval(30)
        let events = RegistryEvents()
        events.register(meter.pulls)
        await events.emit(RegistryEvent(.manifestPull, repository: app, reference: "v1", time: t1))
        // Out of order (another task's earlier pull arriving late): the later time stays.
        await events.emit(RegistryEvent(.manifestPull, repository: app, reference: "v1", time: t0))
        await events.emit(RegistryEvent(.manifestPull, repository: app, reference: "sha256:" + String(repeating: "a", count: 64), time: t0))
        // Not pulls, or not a valid reference: nothing recorded.
        await events.emit(RegistryEvent(.manifestPush, repository: app, reference: "v2", time: t1))
        await events.emit(RegistryEvent(.manifestPull, repository: app, reference: "not a tag!", time: t1))
        #expect(store.pullBatches.withLock { $0.isEmpty }, "nothing is written before a flush")

        store.failing.withLock { $0 = true }
        await #expect(throws: RecordingStore.Unavailable.self) { try await meter.flush() }
        store.failing.withLock { $0 = false }
        try await meter.flush()
        let digest = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        #expect(
            store.pullBatches.withLock { $0 } == [
                [ManifestPull(repository: app, reference: .tag(try KuraCore.Tag(parsing: "v1"))): t1, ManifestPull(repository: app, reference: .digest(digest)): t0]
            ])
        try await meter.flush()
        #expect(store.pullBatches.withLock { $0.count } == 1)
    }
}
