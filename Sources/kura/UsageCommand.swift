import ArgumentParser
import Foundation
import NIOCore

/// `kura usage`: the usage report of the admin API (`/api/v1/usage`).
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Report usage: API calls by kind, bytes in and out, stored bytes (logical and after dedup).",
        discussion: "Counters are kept in hourly buckets; --from and --to select whole hours (default: this month so far, UTC).")

    @OptionGroup var options: AdminOptions
    @Option(help: "Start, ISO 8601 (e.g. 2026-11-01T00:00:00Z).") var from: String?
    @Option(help: "End (exclusive), ISO 8601.") var to: String?
    @Option(help: "Only this namespace (needed unless root or an account admin).") var namespace: String?
    @Option(help: "Group by namespace, repository or key.") var by: String = "namespace"
    @Flag(help: "Print CSV.") var csv = false

    func validate() throws {
        if options.json && csv { throw ValidationError("choose --json or --csv, not both") }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, ISO8601DateFormatter().date(from: value) == nil {
                throw ValidationError("\(name) must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z")
            }
        }
    }

    func run() async throws {
        let client = try AdminClient(options)
        var query = ["by=\(by)", "format=\(csv ? "csv" : "json")"]
        for (key, value) in [("from", from), ("to", to), ("namespace", namespace)] {
            if let value { query.append("\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)") }
        }
        let body = try await client.raw(.GET, "usage?" + query.joined(separator: "&"))
        if options.json || csv {
            print(String(buffer: body), terminator: csv ? "" : "\n")
            return
        }
        print(Self.human(body))
    }

    /// Tables of the JSON report: calls and transfer, then stored bytes.
    static func human(_ body: ByteBuffer) -> String {
        let report = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        var text = "usage from \(report["from"] ?? "?") to \(report["to"] ?? "?")\n\n"
        text += AdminClient.table(report["usage"], columns: ["namespace", "repository", "accessKeyID", "kind", "calls", "bytesIn", "bytesOut"])
        text += "\n\nstored bytes\n"
        text += AdminClient.table(report["storage"], columns: ["namespace", "logicalBytes", "physicalBytes"])
        if let total = report["globalPhysicalBytes"] { text += "\n\nall namespaces after dedup: \(total) bytes" }
        return text
    }
}
