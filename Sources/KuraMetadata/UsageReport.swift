public import Foundation

/// A usage report: the counters a query selects, and the stored bytes now.
public struct UsageReport: Sendable {
    public var query: UsageQuery
    public var records: [UsageRecord]
    public var storage: [NamespaceStorage]
    /// Every distinct object once across the registry; only in reports on all namespaces.
    public var globalPhysicalBytes: Int64?

    /// Reads a report from the catalog.
    public static func make(from store: any UsageStore, _ query: UsageQuery) async throws -> UsageReport {
        UsageReport(
            query: query, records: try await store.usage(query), storage: try await store.storage(namespace: query.namespace),
            globalPhysicalBytes: query.namespace == nil ? try await store.globalPhysicalBytes() : nil)
    }
}

extension UsageQuery {
    /// The start of the UTC month holding `date`: where reports start by default.
    public static func monthStart(of date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.date(from: calendar.dateComponents([.year, .month], from: date)) ?? date
    }
}
