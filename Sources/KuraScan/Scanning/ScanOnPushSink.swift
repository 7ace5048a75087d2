public import KuraRegistry

/// Queues a scan of every pushed manifest (an index's images are reached through it). It
/// only enqueues: sinks run inside the emitting operation, so scanning here would hold the
/// push's response until the scan ended, and the scan's own reads would run inside that
/// operation too.
public struct ScanOnPushSink: RegistryEventSink {
    let service: ScanService

    public init(service: ScanService) {
        self.service = service
    }

    public func receive(_ event: RegistryEvent) async {
        guard event.kind == .manifestPush, let digest = event.digest, let repository = event.repository else { return }
        service.enqueue(digest, in: repository)
    }
}
