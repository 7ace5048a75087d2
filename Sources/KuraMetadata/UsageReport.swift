public import Foundation

/// A usage report: the counters a query selects, and the stored bytes now.
public struct UsageReport: Sendable {
    public var query: UsageQuery
    public var records: [UsageRecord]
    public var storage: [NamespaceStorage]
    /// Every distinct object once across the registry; only in reports on all namespaces.
    public var globalPhysicalBytes: Int64?

    /// Reads a report from the catalog; without `includeStorage`, its counters only (stored
    /// bytes are the figure now, a scan of the catalog, the same whatever period is asked).
    public static func make(from store: any UsageStore, _ query: UsageQuery, includeStorage: Bool = true) async throws -> UsageReport {
        let records = try await store.usage(query)
        guard includeStorage else { return UsageReport(query: query, records: records, storage: []) }
        return UsageReport(
            query: query, records: records, storage: try await store.storage(namespace: query.namespace),
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
