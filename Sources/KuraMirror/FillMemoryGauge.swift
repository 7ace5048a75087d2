import Metrics
import Synchronization

/// The bytes that blob fills hold in memory for their clients, across all fills: now, and
/// the most at any moment. Each fill holds at most its window (see ``BlobFill``), so this
/// stays bounded however slowly clients read. Exported as the swift-metrics gauge
/// `kura_proxy_fill_memory_bytes`.
public final class FillMemoryGauge: Sendable {
    private let state = Mutex<(current: Int, peak: Int)>((0, 0))
    /// Made once: the fill records every buffer, and making a gauge looks its label up in
    /// the metrics registry (it cost more than the buffer's other bookkeeping).
    private let metric: Gauge

    /// Call after the metrics system is bootstrapped: the gauge reports where it was then.
    public init() {
        metric = Gauge(label: "kura_proxy_fill_memory_bytes")
    }

    /// Bytes held now.
    public var current: Int { state.withLock { $0.current } }
    /// The most bytes held at once since start.
    public var peak: Int { state.withLock { $0.peak } }

    func add(_ bytes: Int) {
        let current = state.withLock { state in
            state.current += bytes
            state.peak = Swift.max(state.peak, state.current)
            return state.current
        }
        metric.record(current)
    }
}
