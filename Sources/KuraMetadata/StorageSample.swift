public import Foundation

/// A namespace's stored bytes on one UTC day, as last sampled that day: the usage page's
/// "stored bytes" over time (the catalog otherwise knows only the figure now).
public struct StorageSample: Sendable, Hashable {
    /// The start of the UTC day.
    public var day: Date
    public var namespace: String
    public var physicalBytes: Int64
    public var logicalBytes: Int64

    public init(day: Date, namespace: String, physicalBytes: Int64, logicalBytes: Int64) {
        self.day = day
        self.namespace = namespace
        self.physicalBytes = physicalBytes
        self.logicalBytes = logicalBytes
    }

    /// The start of the UTC day holding `date`.
    public static func dayStart(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }
}
