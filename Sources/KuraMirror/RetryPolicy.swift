import KuraCore
import KuraStorage

/// How often and how patiently a failed registry call is tried again: exponential backoff
/// with full jitter, so parallel transfers that failed together do not retry in lockstep.
public struct RetryPolicy: Sendable {
    /// Attempts in all (1 = no retry).
    public var attempts: Int
    public var baseDelay: Duration
    public var maximumDelay: Duration

    public init(attempts: Int = 4, baseDelay: Duration = .milliseconds(200), maximumDelay: Duration = .seconds(10)) {
        self.attempts = Swift.max(1, attempts)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// The pause before attempt `attempt + 1` (attempt counts from 1).
    func delay(after attempt: Int) -> Duration {
        JitteredBackoff(base: baseDelay, maximum: maximumDelay).delay(after: attempt)
    }

    /// Runs `operation`, retrying transient failures (server faults, broken connections).
    func run<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch {
                guard attempt < attempts, Self.isTransient(error), !Task.isCancelled else { throw error }
                try await Task.sleep(for: delay(after: attempt))
                attempt += 1
            }
        }
    }

    /// Registry answers say for themselves; any other error is the network's (a refused or
    /// broken connection, a timeout) and worth another try.
    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? MirrorError { return error.isTransient }
        if let error = error as? DigestVerificationError { return error.isTransient }
        if error is CancellationError { return false }
        return true
    }
}
