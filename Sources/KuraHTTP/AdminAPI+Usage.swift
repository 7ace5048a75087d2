import Foundation
import Hummingbird
import KuraAccess
public import KuraMetadata
import KuraRegistry

extension AdminAPI {
    /// `GET usage?from=&to=&namespace=&by=namespace|repository|key&format=json|csv` and
    /// `GET|PUT|DELETE namespaces/NAME/quota`.
    func registerUsage(on api: RouterGroup<KuraRequestContext>) {
        api.get("usage") { r, c in
            let csv = r.uri.queryParameters["format"] == "csv"
            return await handle(r, c, contentType: csv ? "text/csv; charset=utf-8" : "application/json") { caller, _ in
                let query = try Self.usageQuery(r.uri.queryParameters)
                try await meter?.flush()
                let report = try await admin.usage(caller, query)
                return (.ok, csv ? UsageReportFormat.csv(report) : try UsageReportFormat.json(report))
            }
        }
        api.get("namespaces/:name/quota") { r, c in
            await handle(r, c) { caller, _ in try encode(await admin.quota(caller, namespace: try c.parameters.require("name"))) }
        }
        api.put("namespaces/:name/quota") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["maxBytes"])
                guard let maxBytes = try json.int64("maxBytes") else { throw AdminError.invalid("maxBytes is required") }
                let name = try c.parameters.require("name")
                try await admin.setQuota(caller, namespace: name, maxBytes: maxBytes)
                return try encode(await admin.quota(caller, namespace: name))
            }
        }
        api.delete("namespaces/:name/quota") { r, c in
            await handle(r, c) { caller, _ in
                try await admin.setQuota(caller, namespace: try c.parameters.require("name"), maxBytes: nil)
                return try noContent()
            }
        }
    }

    /// The report's range defaults to the current UTC month up to now; `by` to namespace.
    static func usageQuery(_ q: Parameters) throws -> UsageQuery {
        let now = Date()
        var grouping = UsageGrouping.namespace
        if let by = q["by"] {
            guard let parsed = UsageGrouping(rawValue: String(by)) else { throw AdminError.invalid("by must be namespace, repository or key") }
            grouping = parsed
        }
        if let format = q["format"], format != "csv", format != "json" { throw AdminError.invalid("format must be json or csv") }
        return UsageQuery(
            from: try date(q, "from") ?? UsageQuery.monthStart(of: now), to: try date(q, "to") ?? now.addingTimeInterval(1),
            namespace: q["namespace"].map(String.init), grouping: grouping)
    }
}

/// A usage report as JSON or CSV (the admin API and `kura usage --data`).
public enum UsageReportFormat {
    struct Report: Encodable {
        var from: Date
        var to: Date
        var by: String
        var namespace: String?
        var usage: [Row]
        var storage: [Storage]
        var globalPhysicalBytes: Int64?
    }

    struct Row: Encodable {
        var namespace: String
        var repository: String?
        var accessKeyID: String?
        var kind: String
        var calls: Int64
        var bytesIn: Int64
        var bytesOut: Int64
    }

    struct Storage: Encodable {
        var namespace: String
        var physicalBytes: Int64
        var logicalBytes: Int64
        var repositories: [RepositoryBytes]
    }

    struct RepositoryBytes: Encodable {
        var repository: String
        var logicalBytes: Int64
    }

    public static func json(_ report: UsageReport) throws -> [UInt8] {
        let body = Report(
            from: report.query.from, to: report.query.to, by: report.query.grouping.rawValue, namespace: report.query.namespace,
            usage: report.records.map {
                Row(
                    namespace: $0.namespace, repository: $0.repository, accessKeyID: $0.accessKeyID, kind: $0.kind.rawValue,
                    calls: $0.counts.calls, bytesIn: $0.counts.bytesIn, bytesOut: $0.counts.bytesOut)
            },
            storage: report.storage.map {
                Storage(
                    namespace: $0.namespace, physicalBytes: $0.physicalBytes, logicalBytes: $0.logicalBytes,
                    repositories: $0.repositories.map { RepositoryBytes(repository: $0.repository, logicalBytes: $0.logicalBytes) })
            },
            globalPhysicalBytes: report.globalPhysicalBytes)
        return try encode(body).1 ?? []
    }

    /// One line per group and kind (stored bytes are in the JSON form only).
    public static func csv(_ report: UsageReport) -> [UInt8] {
        var lines = ["namespace,repository,access_key_id,kind,calls,bytes_in,bytes_out"]
        for record in report.records {
            lines.append(
                [record.namespace, record.repository ?? "", record.accessKeyID ?? "", record.kind.rawValue].map(field).joined(separator: ",")
                    + ",\(record.counts.calls),\(record.counts.bytesIn),\(record.counts.bytesOut)")
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    private static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
