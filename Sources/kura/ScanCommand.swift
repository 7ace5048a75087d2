import ArgumentParser
import Foundation
import KuraServe
import KuraCore
import KuraMetadata
import KuraScan
import Logging

/// `kura scan`: vulnerability scanning of stored images against the offline advisory database.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan a stored image (REPOSITORY:TAG or REPOSITORY@DIGEST) for known vulnerabilities.",
        subcommands: [ScanImage.self, DatabaseCommand.self],
        defaultSubcommand: ScanImage.self
    )

    /// Where the advisory database lives: `--db`, else `advisories.sqlite` in the data folder.
    struct DatabaseOptions: ParsableArguments {
        @Option(help: "The advisory database file (default: scan.database, else advisories.sqlite in the data folder).") var db: String?

        func path(jobs: JobOptions) throws -> String {
            if let db { return db }
            let environment = ProcessInfo.processInfo.environment
            let configuration = try ServerConfiguration(
                reading: .serve(file: jobs.config ?? environment["KURA_CONFIG"], environment: environment, flags: jobs.data.map { ["dataDirectory": $0] } ?? [:]))
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            return configuration.advisoryDatabasePath
        }
    }

    struct ScanImage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "image", abstract: "Scan one image (the default subcommand).")
        @OptionGroup var jobs: JobOptions
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "REPOSITORY:TAG or REPOSITORY@DIGEST") var image: String
        @Option(help: "Print an SBOM instead of the findings: cyclonedx (1.5 JSON) or spdx (2.3 JSON).") var sbom: SBOMFormat?

        enum SBOMFormat: String, ExpressibleByArgument {
            case cyclonedx, spdx
        }

        func run() async throws {
            let (repository, reference) = try Self.parse(image)
            let advisories = try AdvisoryDatabase(path: try database.path(jobs: jobs))
            let registry = try await jobs.openRegistry()
            let progress = ProgressLine(json: jobs.json)
            progress.update("scanning \(image)…")
            let reports = try await RegistryImageScanner(registry: registry, scanner: ImageScanner(database: advisories))
                .scan(reference, in: repository)
            progress.finish()
            if let sbom {
                // One document per image manifest (an index gives one per platform).
                for report in reports {
                    switch sbom {
                    case .cyclonedx: try printJSON(CycloneDXDocument(report: report, imageName: image))
                    case .spdx: try printJSON(SPDXDocument(report: report, imageName: image))
                    }
                }
            } else if jobs.json {
                try printJSON(reports)
            } else {
                for report in reports { print(ScanTable.render(report)) }
            }
        }

        static func parse(_ image: String) throws -> (RepositoryName, Reference) {
            if let at = image.firstIndex(of: "@") {
                return (try RepositoryName(parsing: image[..<at]), try Reference(parsing: image[image.index(after: at)...]))
            }
            if let colon = image.lastIndex(of: ":"), !image[colon...].contains("/") {
                return (try RepositoryName(parsing: image[..<colon]), try Reference(parsing: image[image.index(after: colon)...]))
            }
            return (try RepositoryName(parsing: image), try Reference(parsing: "latest"))
        }
    }

    struct DatabaseCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db", abstract: "The advisory database.", subcommands: [Import.self, Status.self])

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import OSV advisories from a folder, a .zip (as OSV publishes per ecosystem) or a .json file.")
            @OptionGroup var jobs: JobOptions
            @OptionGroup var database: DatabaseOptions
            @Argument(help: "Folder, .zip or .json of OSV records.") var path: String
            @Flag(help: "Do not re-match the stored scan results after the import.") var noRematch = false

            /// The import, and the re-match of stored results that follows it.
            struct Output: Encodable {
                var `import`: AdvisoryImport
                var rematch: StoredScanRematcher.Summary?
            }

            func run() async throws {
                let advisories = try AdvisoryDatabase(path: try database.path(jobs: jobs))
                let progress = ProgressLine(json: jobs.json)
                let result = try await advisories.importAdvisories(from: URL(fileURLWithPath: path)) { count in
                    progress.update("\(count) records read")
                }
                var output = Output(import: result)
                // Stored package lists are matched again, so results name the new advisories
                // without any layer being read.
                if !noRematch {
                    let store = try await jobs.openRegistry().catalog.scans
                    output.rematch = try await StoredScanRematcher(store: store, scanner: ImageScanner(database: advisories)).rematchAll(
                        progress: { summary in progress.update("\(summary.rematched + summary.current) stored results re-matched") })
                }
                progress.finish()
                if jobs.json {
                    try printJSON(output)
                } else {
                    let counts = result.counts
                    print("import \(result.id): \(counts.documents) records, \(counts.added) added, \(counts.updated) updated, "
                        + "\(counts.unchanged) unchanged, \(counts.withdrawn) withdrawn, \(counts.skipped) skipped (other ecosystems)")
                    if let rematch = output.rematch {
                        print("re-matched \(rematch.rematched) stored results (\(rematch.changed) changed, \(rematch.current) already current)")
                    }
                }
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show what the advisory database holds.")
            @OptionGroup var jobs: JobOptions
            @OptionGroup var database: DatabaseOptions

            func run() async throws {
                let status = try await AdvisoryDatabase(path: try database.path(jobs: jobs)).status()
                if jobs.json {
                    try printJSON(status)
                } else {
                    print("\(status.advisories) advisories, \(status.affectedPackages) affected package entries")
                    if let latest = status.latestImport {
                        print("latest import \(latest.id) at \(ISO8601DateFormatter().string(from: latest.importedAt)) from \(latest.source)")
                    } else {
                        print("nothing imported yet: run kura scan db import PATH")
                    }
                }
            }
        }
    }
}

/// The human-readable scan result: a summary line, then findings worst first.
enum ScanTable {
    static func render(_ report: ScanReport) -> String {
        var lines: [String] = []
        let os = report.operatingSystem.map { $0.prettyName ?? "\($0.id) \($0.versionID)" } ?? "unknown OS"
        let summary = report.summary
        lines.append("\(report.manifest?.description ?? "image") — \(os), \(report.packages.count) packages")
        lines.append("findings: \(summary.total) (critical \(summary.critical), high \(summary.high), medium \(summary.medium), "
            + "low \(summary.low), unknown \(summary.unknown)); \(summary.unfixed) without a fix")
        guard !report.findings.isEmpty else { return lines.joined(separator: "\n") }
        let rows = report.findings.map { finding in
            [finding.severity.rawValue, finding.score.map { String(format: "%.1f", $0) } ?? "-", finding.advisoryID,
             finding.aliases.prefix(2).joined(separator: ","), finding.packageName, finding.installedVersion, finding.fixedVersion ?? "(none)"]
        }
        let header = ["SEVERITY", "SCORE", "ADVISORY", "ALIASES", "PACKAGE", "INSTALLED", "FIXED"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            let padded = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            lines.append((padded.dropLast() + [row[row.count - 1]]).joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
