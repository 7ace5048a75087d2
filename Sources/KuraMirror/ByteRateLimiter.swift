/// A token bucket shared by every transfer of a run: `take(n)` waits until `n` bytes may
/// pass, so the run's total rate stays under `bytesPerSecond`, with bursts of at most one
/// second's worth.
public actor ByteRateLimiter {
    public let bytesPerSecond: Int
    private var available: Double
    private var lastRefill: ContinuousClock.Instant

    public init(bytesPerSecond: Int) {
        precondition(bytesPerSecond > 0, "a rate must be positive")
        self.bytesPerSecond = bytesPerSecond
        self.available = Double(bytesPerSecond)
        self.lastRefill = .now
    }

    /// Waits until `count` bytes may be sent, and spends them.
    public func take(_ count: Int) async throws {
        refill()
        available -= Double(count)
        // Debt is allowed (one buffer may be bigger than a second's worth); the caller waits
        // until it is paid back. Because the debt is booked before the sleep, concurrent
        // callers queue up behind it.
        if available < 0 {
            let seconds = -available / Double(bytesPerSecond)
            try await Task.sleep(for: .nanoseconds(Int64(seconds * 1_000_000_000)))
        }
    }

    private func refill() {
        let now = ContinuousClock.now
        let elapsed = now - lastRefill
        lastRefill = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        available = Swift.min(Double(bytesPerSecond), available + seconds * Double(bytesPerSecond))
    }
}
