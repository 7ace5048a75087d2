import Foundation
import HTTPTypes
import Hummingbird
import KuraAccess
import KuraHTTP
import KuraMetadata
import KuraRegistry

/// A namespace's usage over the last days as server-rendered SVG bar charts (calls, bytes
/// in, bytes out per day) and its stored bytes per repository now; for its managers and
/// admins (``AccessAdmin/usage(_:_:)`` decides).
extension Dashboard {
    static let usageDays = 14

    struct Bar {
        var x: Int
        var y: Int
        var height: Int
        var label: String
        var value: String
    }

    struct Chart {
        var title: String
        var total: String
        var bars: [Bar]
        var firstDay: String
        var lastDay: String
    }

    struct StoredRow {
        var repository: String
        var size: String
        var width: Int
    }

    struct UsageView {
        var namespace: String
        var charts: [Chart]
        var stored: [StoredRow]
        var physical: String
        var logical: String
    }

    func registerUsage(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        router.get("/namespaces/:name/usage") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                let namespace = try context.parameters.require("name")
                try await meter?.flush()
                // UTC days, as the usage buckets are.
                let today = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
                var days: [(Date, UsageCounts)] = []
                var storage: [NamespaceStorage] = []
                for offset in (0..<Self.usageDays).reversed() {
                    let from = today.addingTimeInterval(-Double(offset) * 86_400)
                    // Stored bytes are the figure now: read once, with today's report.
                    let report = try await admin.usage(
                        visit.caller, UsageQuery(from: from, to: from.addingTimeInterval(86_400), namespace: namespace, grouping: .namespace),
                        includeStorage: offset == 0)
                    var total = UsageCounts()
                    for record in report.records { total += record.counts }
                    days.append((from, total))
                    if offset == 0 { storage = report.storage }
                }
                // The last sample of each day, and today's figure as it is now.
                let samples = try await admin.storageHistory(visit.caller, namespace: namespace, from: days[0].0, to: today)
                var stored = Dictionary(samples.map { ($0.day, $0.physicalBytes) }, uniquingKeysWith: { _, last in last })
                stored[today] = storage.first?.physicalBytes ?? 0
                let view = UsageView(
                    namespace: namespace,
                    charts: [
                        Self.chart("API calls", days.map { ($0.0, $0.1.calls) }, format: { String($0) }),
                        Self.chart("Bytes in", days.map { ($0.0, $0.1.bytesIn) }, format: Display.bytes),
                        Self.chart("Bytes out", days.map { ($0.0, $0.1.bytesOut) }, format: Display.bytes),
                        Self.chart("Stored bytes", days.map { ($0.0, stored[$0.0] ?? 0) }, format: Display.bytes, summed: false),
                    ],
                    stored: Self.storedRows(storage.first), physical: Display.bytes(storage.first?.physicalBytes ?? 0),
                    logical: Display.bytes(storage.first?.logicalBytes ?? 0))
                return pages.page(
                    "usage", view,
                    layout: LayoutView(
                        title: "Usage of \(namespace)", visit: visit,
                        crumbs: [.init(name: "Namespaces", href: "/"), .init(name: namespace, href: "/namespaces/\(Display.pathEscape(namespace))")]))
            }
        }
    }

    /// Bars 20 wide, 24 apart, in a 100-high plot (the SVG's viewBox).
    /// `summed`: the total is the sum of the days (calls, transfer); otherwise the last day's
    /// value (stored bytes).
    static func chart(_ title: String, _ values: [(Date, Int64)], format: (Int64) -> String, summed: Bool = true) -> Chart {
        let peak = max(1, values.map(\.1).max() ?? 1)
        let bars = values.enumerated().map { index, entry in
            let height = Int((Double(entry.1) / Double(peak) * 100).rounded(.up))
            return Bar(x: index * 24, y: 100 - height, height: height, label: Display.day(entry.0), value: format(entry.1))
        }
        return Chart(
            title: title, total: summed ? format(values.reduce(0) { $0 + $1.1 }) + " in all" : format(values.last?.1 ?? 0) + " now", bars: bars, firstDay: bars.first?.label ?? "", lastDay: bars.last?.label ?? "")
    }

    static func storedRows(_ storage: NamespaceStorage?) -> [StoredRow] {
        let repositories = (storage?.repositories ?? []).sorted { $0.logicalBytes > $1.logicalBytes }.prefix(20)
        let peak = max(1, repositories.first?.logicalBytes ?? 1)
        return repositories.map {
            StoredRow(repository: $0.repository, size: Display.bytes($0.logicalBytes), width: Int((Double($0.logicalBytes) / Double(peak) * 100).rounded(.up)))
        }
    }
}
