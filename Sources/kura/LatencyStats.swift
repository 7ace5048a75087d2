/// Latency percentiles of a set of timed operations.
struct LatencyStats {
    private(set) var samples: [Duration] = []

    mutating func add(_ duration: Duration) { samples.append(duration) }

    mutating func merge(_ other: LatencyStats) { samples += other.samples }

    /// The `p`-th percentile (0…100) in milliseconds, nearest-rank.
    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let rank = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank].milliseconds
    }

    var summary: [String: Double] {
        ["p50": percentile(50), "p90": percentile(90), "p99": percentile(99), "max": percentile(100)]
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}
