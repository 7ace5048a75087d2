import ArgumentParser
import Foundation
import KuraCore
import KuraMetadata
import Logging

/// `kura catalog …`: work on the catalog itself.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Work on the catalog itself.", subcommands: [CatalogMigrateCommand.self])
}

/// `kura catalog migrate`: a data folder's SQLite catalog into PostgreSQL (``CatalogMigration``).
struct CatalogMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a data folder's SQLite catalog (and its keys) into a PostgreSQL catalog.",
        discussion: """
            Stop the server of that data folder first. Every table is copied in batches; run the \
            command again after an interruption and it continues where it stopped. At the end the \
            rows of every table are counted on both sides. The blobs stay where they are: point the \
            PostgreSQL nodes at the same storage (the data folder's storage/ or the S3 bucket). A \
            target that holds anything is refused unless --force, which deletes what it holds. \
            See docs/catalog-migrate.md.
            """)

    @Option(help: "The data folder whose catalog.sqlite (and keys) to copy.") var from: String
    @Option(help: "postgres://user:password@host:port/database (default: $KURA_CATALOG_URL).") var to: String?
    @Flag(help: "Delete whatever the PostgreSQL catalog holds, then copy.") var force = false
    @Option(help: "Rows per batch (one transaction each).") var batchSize = 1000
    @Flag(help: "Print JSON: progress lines on stderr, the summary on stdout.") var json = false

    func validate() throws {
        if batchSize < 1 || batchSize > 5000 { throw ValidationError("--batch-size must be between 1 and 5000") }
        if to == nil && ProcessInfo.processInfo.environment["KURA_CATALOG_URL"] == nil {
            throw ValidationError("give the PostgreSQL catalog with --to postgres://… or KURA_CATALOG_URL")
        }
    }

    func run() async throws {
        var logger = Logger(label: "kura")
        logger.logLevel = .warning
        let url = to ?? ProcessInfo.processInfo.environment["KURA_CATALOG_URL"] ?? ""
        let folder = DataFolder(from)
        var keys: [String: [UInt8]] = [:]
        for key in folder.sharedKeys {
            if let bytes = FileManager.default.contents(atPath: key.path), !bytes.isEmpty { keys[key.name] = Array(bytes) }
        }
        let target = try await PostgresCatalog.open(url: url, poolSize: 4, logger: logger)
        defer { target.close() }
        let line = ProgressLine(json: json)
        let json = json
        let migration = CatalogMigration(sourcePath: folder.catalog, sharedKeys: keys, target: target, force: force, batchSize: batchSize)
        let summary: CatalogMigrationSummary
        do {
            summary = try await migration.run { progress in
                if json {
                    FileHandle.standardError.write(try Self.jsonLine(progress))
                } else {
                    line.update("\(progress.tableNumber)/\(progress.tableCount) \(progress.table): \(progress.copied)/\(progress.total) rows")
                }
            }
        } catch let error as CatalogMigrationError {
            line.finish()
            if json {
                print(String(decoding: try Self.jsonLine(["error": error.description]), as: UTF8.self), terminator: "")
            } else {
                FileHandle.standardError.write(Data("kura catalog migrate: \(error)\n".utf8))
            }
            throw ExitCode(1)
        }
        line.finish()
        let keyRows = summary.tables.first { $0.name == "access_keys" }?.sourceRows ?? 0
        if keyRows > 0 && keys[folder.secretHashSharedKey.name] == nil {
            FileHandle.standardError.write(
                Data("kura catalog migrate: warning: \(folder.secretHashKey) is missing, so the \(keyRows) access keys copied cannot authenticate\n".utf8))
        }
        if json { return try printJSON(summary) }
        print("\(summary.resumed ? "resumed and finished" : "migrated") \(summary.source) in \(format(summary.seconds, 2)) s")
        if summary.replacedTarget { print("  the target's earlier contents were deleted (--force)") }
        print("  \(summary.rowsCopied) rows copied this run; counts agree in every table:")
        for table in summary.tables where table.sourceRows > 0 {
            print("    \(table.name): \(table.targetRows)")
        }
        print("  keys moved into the catalog: \(summary.sharedKeys.isEmpty ? "none" : summary.sharedKeys.joined(separator: ", "))")
        for (table, reason) in summary.notCopied.sorted(by: { $0.key < $1.key }) { print("  not copied: \(table) (\(reason))") }
    }

    private static func jsonLine(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value) + Data("\n".utf8)
    }
}
