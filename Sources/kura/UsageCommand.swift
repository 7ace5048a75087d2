import ArgumentParser
import Foundation
import KuraHTTP
import KuraMetadata
import Logging
import NIOCore

/// `kura usage`: the usage report, from a server's admin API (`/api/v1/usage`) or, with
/// `--data`, straight from a catalog.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Report usage: API calls by kind, bytes in and out, stored bytes (logical and after dedup).",
        discussion: """
            Counters are kept in hourly buckets; --from and --to select whole hours (default: this month so far, UTC). \
            With --data (a SQLite catalog) or --catalog-url (a PostgreSQL one) the catalog is read directly (for a \
            server without access control); a running server's last few seconds of counts \
            (usage.flushIntervalSeconds) are then not yet in it.
            """)

    @OptionGroup var options: AdminOptions
    @Option(help: "Read the catalog of this data folder instead of asking a server.") var data: String?
    @Option(name: .customLong("catalog-url"), help: "Read this PostgreSQL catalog (postgres://…) instead of asking a server.")
    var catalogURL: String?
    @Option(help: "Start, ISO 8601 (e.g. 2026-11-01T00:00:00Z).") var from: String?
    @Option(help: "End (exclusive), ISO 8601.") var to: String?
    @Option(help: "Only this namespace (needed unless root or an account admin).") var namespace: String?
    @Option(help: "Group by namespace, repository or key.") var by: String = "namespace"
    @Flag(help: "Print CSV.") var csv = false

    func validate() throws {
        if options.json && csv { throw ValidationError("choose --json or --csv, not both") }
        if data != nil && catalogURL != nil { throw ValidationError("choose --data (SQLite) or --catalog-url (PostgreSQL), not both") }
        if UsageGrouping(rawValue: by) == nil { throw ValidationError("--by must be namespace, repository or key") }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, ISO8601DateFormatter().date(from: value) == nil {
                throw ValidationError("\(name) must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z")
            }
        }
    }

    func run() async throws {
        let body: [UInt8]
        if let catalogURL {
            body = try await postgresReport(catalogURL)
        } else if let data {
            body = try await localReport(data)
        } else {
            body = try await remoteReport()
        }
        if options.json || csv {
            print(String(decoding: body, as: UTF8.self), terminator: csv ? "" : "\n")
            return
        }
        print(Self.human(body))
    }

    private func remoteReport() async throws -> [UInt8] {
        let client = try AdminClient(options)
        var query = ["by=\(by)", "format=\(csv ? "csv" : "json")"]
        for (key, value) in [("from", from), ("to", to), ("namespace", namespace)] {
            if let value { query.append("\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)") }
        }
        return Array(try await client.raw(.GET, "usage?" + query.joined(separator: "&")).readableBytesView)
    }

    private func localReport(_ data: String) async throws -> [UInt8] {
        let path = "\(data)/catalog.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError(
                "no SQLite catalog at \(path); for a PostgreSQL catalog give --catalog-url postgres://… (or ask a node: kura usage --url …)")
        }
        return try await report(from: try SQLiteMetadataStore(path: path))
    }

    private func postgresReport(_ url: String) async throws -> [UInt8] {
        var logger = Logger(label: "kura")
        logger.logLevel = .warning
        let catalog = try await PostgresCatalog.open(url: url, poolSize: 2, logger: logger)
        defer { catalog.close() }
        return try await report(from: catalog)
    }

    private func report(from store: any UsageStore) async throws -> [UInt8] {
        let now = Date()
        let query = UsageQuery(
            from: from.flatMap { ISO8601DateFormatter().date(from: $0) } ?? UsageQuery.monthStart(of: now),
            to: to.flatMap { ISO8601DateFormatter().date(from: $0) } ?? now.addingTimeInterval(1), namespace: namespace,
            grouping: UsageGrouping(rawValue: by) ?? .namespace)
        guard query.from < query.to else { throw ValidationError("--from must be before --to") }
        let report = try await UsageReport.make(from: store, query)
        return csv ? UsageReportFormat.csv(report) : try UsageReportFormat.json(report)
    }

    /// Tables of the JSON report: calls and transfer, then stored bytes.
    static func human(_ body: [UInt8]) -> String {
        let report = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        var text = "usage from \(report["from"] ?? "?") to \(report["to"] ?? "?")\n\n"
        text += AdminClient.table(report["usage"], columns: ["namespace", "repository", "accessKeyID", "kind", "calls", "bytesIn", "bytesOut"])
        text += "\n\nstored bytes\n"
        text += AdminClient.table(report["storage"], columns: ["namespace", "logicalBytes", "physicalBytes"])
        if let total = report["globalPhysicalBytes"] { text += "\n\nall namespaces after dedup: \(total) bytes" }
        return text
    }
}
