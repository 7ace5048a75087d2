public import Foundation
import KuraMetadata

extension UsageMeter {
    /// Records each namespace's stored bytes now as its sample of the UTC day holding
    /// `time` (a later sample that day replaces it): the usage page's stored bytes over time.
    public func sampleStorage(at time: Date = Date()) async throws {
        let storage = try await store.storage(namespace: nil)
        try await store.recordStorageSamples(
            storage.map { StorageSample(day: time, namespace: $0.namespace, physicalBytes: $0.physicalBytes, logicalBytes: $0.logicalBytes) })
    }
}
