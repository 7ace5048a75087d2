public import Foundation
public import KuraMetadata
import KuraCore

/// Keeps the time of the last pull of each tag and digest in memory and writes them to the
/// catalog on the usage meter's flush (``UsageMeter/flush()``), so a pull adds no catalog
/// write: it is an event sink for ``RegistryEvent/Kind/manifestPull``. Many pulls of one
/// tag between two flushes are one row written.
public final class PullRecorder: RegistryEventSink, Sendable {
    public let store: any UsageStore
    /// The latest time of each pull.
    private let pending = PendingWrites<ManifestPull, Date> { $0 = max($0, $1) }

    public init(store: any UsageStore) {
        self.store = store
    }

    public func receive(_ event: RegistryEvent) async {
        guard event.kind == .manifestPull, let repository = event.repository, let text = event.reference,
            let reference = try? Reference(parsing: text)
        else { return }
        record(ManifestPull(repository: repository, reference: reference), at: event.time)
    }

    public func record(_ pull: ManifestPull, at time: Date) {
        pending.add(pull, time)
    }

    /// Writes the pulls recorded so far; a failed write keeps them for the next flush.
    func flush() async throws {
        try await pending.flush { try await store.recordPulls($0) }
    }
}
