import ArgumentParser
import Foundation
import KuraAccess
import KuraHTTP
import KuraServe
import KuraMetadata
import KuraRegistry
import Logging

/// A duration on the command line: `90s`, `30m`, `24h`, `7d`, `250ms`, or plain seconds.
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible, Sendable {
    let seconds: TimeInterval

    init(seconds: TimeInterval) { self.seconds = seconds }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, multiplier) in units where argument.hasSuffix(suffix) {
            guard let number = Double(argument.dropLast(suffix.count)), number >= 0 else { continue }
            seconds = number * multiplier
            return
        }
        guard let plain = Double(argument), plain >= 0 else { return nil }
        seconds = plain
    }

    var description: String { "\(seconds)s" }
}

/// Options every maintenance job takes.
struct JobOptions: ParsableArguments {
    @Option(help: "Data folder (as for kura serve).") var data: String?
    @Option(help: "The server's YAML configuration (storage, data folder), as for kura serve.") var config: String?
    @Flag(help: "Report what would change; change nothing.") var dryRun = false
    @Flag(help: "Print JSON.") var json = false

    func openRegistry() async throws -> Registry {
        var logger = Logger(label: "kura")
        logger.logLevel = .warning
        let environment = ProcessInfo.processInfo.environment
        let configuration = try ServerConfiguration(
            reading: .serve(file: config ?? environment["KURA_CONFIG"], environment: environment, flags: data.map { ["dataDirectory": $0] } ?? [:]))
        let registry = try await KuraServer.makeRegistry(configuration, logger: logger)
        // What a job deletes is audited as when the server runs it. (Webhook events come from
        // the server's own scheduled runs only: this process delivers none.)
        if configuration.access.enabled {
            registry.events.register(AuditSink(store: registry.catalog.access, logger: logger))
        }
        return registry
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : "\(format(value, 1)) \(units[unit])"
}

/// A job's progress on a terminal line.
struct JobProgress: Sendable {
    private let line: ProgressLine
    init(json: Bool) { line = ProgressLine(json: json) }

    func update(_ progress: GarbageCollectionProgress) {
        var text = "\(progress.phase): \(progress.done)"
        if let total = progress.total { text += "/\(total)" }
        if progress.bytesFreed > 0 { text += ", \(formatBytes(progress.bytesFreed)) freed" }
        line.update(text)
    }

    func finish() { line.finish() }
}

struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Collect garbage: unreferenced blobs, orphaned referrers, expired uploads.",
        discussion: """
            Runs online: a registry may keep serving the same data folder. Only one \
            maintenance job runs at a time (a lease in the catalog). Every run is recorded; \
            --runs lists the recent ones.
            """
    )

    @OptionGroup var options: JobOptions
    @Option(help: "Keep blobs linked more recently than this (e.g. 24h).") var grace = DurationArgument(seconds: 24 * 3600)
    @Option(help: "Remove upload sessions idle longer than this.") var uploadExpiry = DurationArgument(seconds: 24 * 3600)
    @Flag(help: "Also delete untagged manifests older than --untagged-age.") var deleteUntagged = false
    @Option(help: "Age after which untagged manifests go, with --delete-untagged.") var untaggedAge = DurationArgument(seconds: 7 * 86400)
    @Flag(help: "List recent job runs (gc and scrub) instead of collecting.") var runs = false

    func run() async throws {
        let registry = try await options.openRegistry()
        if runs {
            try await listRuns(registry, json: options.json)
            return
        }
        var gcOptions = GarbageCollectionOptions()
        gcOptions.gracePeriod = grace.seconds
        gcOptions.uploadExpiry = uploadExpiry.seconds
        gcOptions.deleteUntagged = deleteUntagged
        gcOptions.untaggedAge = untaggedAge.seconds
        gcOptions.dryRun = options.dryRun
        let progress = JobProgress(json: options.json)
        let summary = try await GarbageCollector(registry: registry, options: gcOptions).run { progress.update($0) }
        progress.finish()
        if options.json { return try printJSON(summary) }
        let verb = summary.dryRun ? "would free" : "freed"
        print("gc run \(summary.runID)\(summary.dryRun ? " (dry run)" : "") in \(format(summary.seconds, 2)) s")
        print("  examined: \(summary.blobsExamined) objects (\(formatBytes(summary.bytesExamined)))")
        print("  \(verb): \(summary.blobsFreed) objects (\(formatBytes(summary.bytesFreed)))")
        print("  manifests \(summary.dryRun ? "that would go" : "deleted"): \(summary.manifestsDeleted) untagged, \(summary.referrersDeleted) orphaned referrers")
        print("  uploads: \(summary.uploadsExamined) examined, \(summary.uploadsExpired) expired (\(formatBytes(summary.uploadBytesFreed)))")
        print(
            "  debris: \(summary.debrisFilesFreed) files (\(formatBytes(summary.debrisBytesFreed))), \(summary.unlinkedBlobsFreed) unlinked blobs")
        if summary.dryRun {
            for item in summary.manifestsListed { print("  manifest \(item)") }
            for item in summary.blobsListed { print("  blob \(item)") }
        }
        for error in summary.errors { print("  error: \(error)") }
    }

    private func listRuns(_ registry: Registry, json: Bool) async throws {
        let store = registry.catalog.collection
        let records = try await store.jobRuns(kind: nil, limit: 50)
        let dates = ISO8601DateFormatter()
        if json {
            let objects: [[String: Any]] = records.map { run in
                var object: [String: Any] = [
                    "id": run.id, "kind": run.kind, "owner": run.owner, "dryRun": run.dryRun,
                    "startedAt": dates.string(from: run.startedAt),
                ]
                if let finished = run.finishedAt { object["finishedAt"] = dates.string(from: finished) }
                if let summary = run.summary, let parsed = try? JSONSerialization.jsonObject(with: Data(summary.utf8)) {
                    object["summary"] = parsed
                }
                if let error = run.error { object["error"] = error }
                return object
            }
            let data = try JSONSerialization.data(
                withJSONObject: objects, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for run in records {
            let end = run.finishedAt.map { dates.string(from: $0) } ?? "running"
            let status = run.error.map { "error: \($0)" } ?? "ok"
            print("\(run.id)\t\(run.kind)\(run.dryRun ? " (dry run)" : "")\t\(dates.string(from: run.startedAt)) → \(end)\t\(status)")
        }
    }
}

struct ScrubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrub",
        abstract: "Verify every stored blob and every manifest reference.",
        discussion: """
            Reads every blob the catalog holds and checks its digest and size, checks that \
            manifest references resolve, and lists objects the catalog does not know. With \
            --repair, corrupt and missing blobs are removed from the catalog (and storage) \
            so clients push them again. Exits with status 1 if something is wrong.
            """
    )

    @OptionGroup var options: JobOptions
    @Flag(help: "Remove corrupt and missing blobs from the catalog so clients re-push them.") var repair = false
    @Option(help: "Blobs verified at once.") var concurrency = 4

    func run() async throws {
        let registry = try await options.openRegistry()
        let progress = JobProgress(json: options.json)
        let report = try await Scrubber(registry: registry, repair: repair && !options.dryRun, concurrency: concurrency).run {
            progress.update($0)
        }
        progress.finish()
        if options.json {
            try printJSON(report)
        } else {
            print("scrub run \(report.runID): \(report.blobsChecked) objects (\(formatBytes(report.bytesChecked))) checked")
            print("  corrupt: \(report.corrupt.count), missing: \(report.missing.count), dangling references: \(report.danglingReferences.count)")
            print("  orphaned objects: \(report.orphanedCount) (\(formatBytes(report.orphanedBytes)))")
            for digest in report.corrupt { print("  corrupt \(digest)") }
            for digest in report.missing { print("  missing \(digest)") }
            for reference in report.danglingReferences {
                print("  dangling \(reference.repository)@\(reference.manifest) → \(reference.kind) \(reference.child)")
            }
            for key in report.orphaned { print("  orphaned \(key)") }
            for digest in report.repaired { print("  repaired \(digest)") }
        }
        if !report.clean { throw ExitCode(1) }
    }
}
