public import Foundation

/// Counts failed logins per source address and per access key id in a sliding window and
/// refuses further attempts from either once it holds its limit of failures. An address
/// may stand for many clients (NAT, CI runners), so its limit is higher than a key's.
/// In memory, per node.
public actor LoginRateLimiter {
    public let keyLimit: Int
    public let addressLimit: Int
    public let window: TimeInterval
    private var failures: [String: [Date]] = [:]

    public init(keyLimit: Int = 10, addressLimit: Int = 100, window: TimeInterval = 60) {
        self.keyLimit = keyLimit
        self.addressLimit = addressLimit
        self.window = window
    }

    /// Seconds to wait before another attempt, or `nil` if attempts are allowed.
    public func retryAfter(address: String?, keyID: String?, now: Date = Date()) -> Int? {
        var wait: TimeInterval?
        for bucket in buckets(address, keyID) {
            let recent = prune(bucket, now)
            let limit = bucket.hasPrefix("key:") ? keyLimit : addressLimit
            if recent.count >= limit, let oldest = recent.first {
                wait = max(wait ?? 0, oldest.addingTimeInterval(window).timeIntervalSince(now))
            }
        }
        return wait.map { max(1, Int($0.rounded(.up))) }
    }

    public func recordFailure(address: String?, keyID: String?, now: Date = Date()) {
        for bucket in buckets(address, keyID) {
            var recent = prune(bucket, now)
            recent.append(now)
            failures[bucket] = recent
        }
        if failures.count > 100_000 {
            let window = self.window
            failures = failures.filter { entry in entry.value.contains { now.timeIntervalSince($0) < window } }
        }
    }

    private func buckets(_ address: String?, _ keyID: String?) -> [String] {
        [address.map { "addr:\($0)" }, keyID.map { "key:\($0)" }].compactMap { $0 }
    }

    private func prune(_ bucket: String, _ now: Date) -> [Date] {
        let recent = (failures[bucket] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[bucket] = recent.isEmpty ? nil : recent
        return recent
    }
}
