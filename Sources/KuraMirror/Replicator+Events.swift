public import KuraRegistry

/// Replication rules with `onPush` start when a manifest is pushed.
extension Replicator: RegistryEventSink {
    public func receive(_ event: RegistryEvent) async {
        guard event.kind == .manifestPush, let repository = event.repository else { return }
        pushed(repository.value)
    }
}
