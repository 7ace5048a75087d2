import Synchronization

/// Limits requests per access key and per source address with token buckets: each holds up
/// to a minute's allowance and refills continuously, so short bursts pass and a sustained
/// rate above the limit is refused. A limit of 0 is off. In memory, per node; a `Mutex`
/// (not an actor) because every request passes here.
public final class RequestRateLimiter: Sendable {
    public let perKeyPerMinute: Int
    public let perAddressPerMinute: Int
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Seconds since the limiter was made, on the clock it was given.
    private let elapsed: @Sendable () -> Double

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    /// - Parameter clock: what refills the buckets; tests pass a manual clock, so a busy
    ///   machine cannot refill a token between two requests.
    public init<C: Clock<Duration>>(perKeyPerMinute: Int, perAddressPerMinute: Int, clock: C = ContinuousClock()) {
        self.perKeyPerMinute = Swift.max(0, perKeyPerMinute)
        self.perAddressPerMinute = Swift.max(0, perAddressPerMinute)
        let start = clock.now
        elapsed = {
            let (seconds, attoseconds) = start.duration(to: clock.now).components
            return Double(seconds) + Double(attoseconds) / 1e18
        }
    }

    /// Whether any limit is on.
    public var isEnabled: Bool { perKeyPerMinute > 0 || perAddressPerMinute > 0 }

    /// Takes one request from the caller's buckets: `nil` when admitted, else the seconds to
    /// wait. A refused request takes nothing, so waiting that long is enough.
    public func admit(address: String?, keyID: String?) -> Int? {
        var limits: [(String, Int)] = []
        if perAddressPerMinute > 0, let address { limits.append(("addr:" + address, perAddressPerMinute)) }
        if perKeyPerMinute > 0, let keyID { limits.append(("key:" + keyID, perKeyPerMinute)) }
        guard !limits.isEmpty else { return nil }
        let time = elapsed()
        return buckets.withLock { buckets in
            var wait: Double = 0
            var refilled: [(String, Bucket)] = []
            for (name, limit) in limits {
                let capacity = Double(limit)
                let rate = capacity / 60
                var bucket = buckets[name] ?? Bucket(tokens: capacity, updated: time)
                bucket.tokens = Swift.min(capacity, bucket.tokens + Swift.max(0, time - bucket.updated) * rate)
                bucket.updated = time
                if bucket.tokens < 1 { wait = Swift.max(wait, (1 - bucket.tokens) / rate) }
                refilled.append((name, bucket))
            }
            let admitted = wait == 0
            for (name, var bucket) in refilled {
                if admitted { bucket.tokens -= 1 }
                buckets[name] = bucket
            }
            if buckets.count > 100_000 { prune(&buckets, time) }
            return admitted ? nil : Swift.max(1, Int(wait.rounded(.up)))
        }
    }

    /// Drops buckets idle for a minute: they have refilled completely, like a fresh one.
    private func prune(_ buckets: inout [String: Bucket], _ time: Double) {
        buckets = buckets.filter { time - $0.value.updated < 60 }
    }
}
