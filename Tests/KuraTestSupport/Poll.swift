import Foundation

/// What a test waits for is a condition, never a span of time: a busy CI machine turns fixed
/// sleeps into flakes.
public enum Poll {
    /// Returns once the wall clock shows a later millisecond than when called. The catalog
    /// stamps rows in milliseconds, so writes made either side of this call have distinct,
    /// ordered times (push order for retention, "strictly before" a zero-grace cutoff).
    public static func nextMillisecond() async {
        let start = (Date().timeIntervalSince1970 * 1000).rounded(.down)
        while (Date().timeIntervalSince1970 * 1000).rounded(.down) <= start { await Task.yield() }
    }
}
