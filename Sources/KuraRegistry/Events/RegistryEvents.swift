import Synchronization

/// The registry's event bus: sinks are registered once, at start, and every operation
/// emits to all of them.
public final class RegistryEvents: Sendable {
    private let sinks = Mutex<[any RegistryEventSink]>([])

    public init() {}

    /// Who the current task acts for: set by the HTTP layer around a request (with
    /// ``withActor(_:operation:)``), read when an operation builds its event.
    @TaskLocal public static var actor: RegistryEvent.Actor?

    /// Runs `operation` with its events attributed to `actor`.
    public static func withActor<T>(_ actor: RegistryEvent.Actor?, operation: () async throws -> T) async rethrows -> T {
        try await $actor.withValue(actor, operation: operation)
    }

    public func register(_ sink: any RegistryEventSink) {
        sinks.withLock { $0.append(sink) }
    }

    public var isEmpty: Bool { sinks.withLock { $0.isEmpty } }

    /// The registered sinks of one type (for status and tests: a sink's own progress).
    public func sinks<Sink: RegistryEventSink>(of type: Sink.Type) -> [Sink] {
        sinks.withLock { $0.compactMap { $0 as? Sink } }
    }

    public func emit(_ event: RegistryEvent) async {
        for sink in sinks.withLock({ $0 }) { await sink.receive(event) }
    }
}
