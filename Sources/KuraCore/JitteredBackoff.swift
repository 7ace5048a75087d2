/// Exponential backoff with full jitter: the pause before another attempt is a random
/// duration between zero and `min(maximum, base × 2^(attempt-1))`, so callers that failed
/// together do not retry in lockstep. Shared by every client that retries (S3, registries).
public struct JitteredBackoff: Sendable, Hashable {
    public var base: Duration
    public var maximum: Duration

    public init(base: Duration, maximum: Duration) {
        self.base = base
        self.maximum = maximum
    }

    /// The pause before attempt `attempt + 1` (attempts count from 1).
    public func delay(after attempt: Int) -> Duration {
        let cap = Swift.min(maximum, base * (1 << Swift.min(Swift.max(attempt - 1, 0), 20)))
        let nanoseconds = cap.components.seconds * 1_000_000_000 + cap.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds))
    }
}
