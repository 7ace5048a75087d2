/// Receives every ``RegistryEvent``. Sinks are called in turn as the operation completes,
/// so each must be quick (queue the work, write one row) and must not throw: an event that
/// a sink cannot handle is its to log.
public protocol RegistryEventSink: Sendable {
    func receive(_ event: RegistryEvent) async
}
