import Foundation

/// What a test waits for is a condition, never a span of time: a busy CI machine turns fixed
/// sleeps into flakes.
public enum Poll {
    /// Checks `condition` until it gives a value, `interval` apart, for at most `timeout`:
    /// the one polling loop of the tests (a background scan's result, a delivered webhook, a
    /// page that finished loading). Throws naming `what` when the time is up.
    @discardableResult
    public static func until<T>(
        _ what: String, timeout: Duration = .seconds(60), interval: Duration = .milliseconds(20),
        _ condition: () async throws -> T?
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = try await condition() { return value }
            guard ContinuousClock.now < deadline else { throw PollTimeout(description: "timed out after \(timeout) waiting for \(what)") }
            try await Task.sleep(for: interval)
        }
    }

    /// Returns once the wall clock shows a later millisecond than when called. The catalog
    /// stamps rows in milliseconds, so writes made either side of this call have distinct,
    /// ordered times (push order for retention, "strictly before" a zero-grace cutoff).
    public static func nextMillisecond() async {
        let start = (Date().timeIntervalSince1970 * 1000).rounded(.down)
        while (Date().timeIntervalSince1970 * 1000).rounded(.down) <= start { await Task.yield() }
    }
}

/// What ``Poll/until(_:timeout:interval:_:)`` throws when its condition never held.
public struct PollTimeout: Error, CustomStringConvertible {
    public let description: String
}
