import ArgumentParser
import Foundation
import KuraHTTP
import KuraRegistry

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup of the catalog (while the server runs) and the list of blobs it references.",
        discussion: """
            The SQLite catalog is copied with SQLite's online backup (one consistent moment, \
            the server keeps serving) and compressed with LZ4 into DIR/catalog.sqlite.lz4; \
            DIR/blobs.txt lists every blob and manifest it references. Blobs never change, so \
            copying storage is incremental: --storage copies the blobs DIR/storage lacks, each \
            verified against its digest. On S3, copy the bucket with its own tools instead \
            (see docs/backup.md). PostgreSQL catalogs are backed up with pg_dump.
            """
    )

    @OptionGroup var options: JobOptions
    @Option(help: "The backup folder (created; an older backup there is replaced, its storage/ kept and topped up).") var to: String
    @Flag(help: "Also copy the referenced blobs that DIR/storage lacks, verified.") var storage = false

    func run() async throws {
        let registry = try await options.openRegistry()
        let progress = JobProgress(json: options.json)
        let summary = try await RegistryBackup(registry: registry).backup(to: to, copyBlobs: storage) { progress.update($0) }
        progress.finish()
        if options.json { return try printJSON(summary) }
        print("backup in \(to) after \(format(summary.seconds, 2)) s")
        print("  catalog: \(formatBytes(summary.catalogBytes)), \(formatBytes(summary.compressedBytes)) with LZ4")
        print("  references \(summary.blobs) blobs (\(formatBytes(summary.blobBytes)))")
        if storage { print("  copied \(summary.blobsCopied) blobs (\(formatBytes(summary.bytesCopied))); the others were there") }
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup's catalog into a data folder, after checking every blob it references.",
        discussion: """
            Blobs the target storage lacks are copied from the backup's storage/ (if it has \
            one). Then every referenced blob is read and hashed; only if all are present and \
            right is the catalog swapped in. Otherwise nothing changes and the missing or \
            corrupt blobs are listed (exit status 1). Stop the server of that data folder first.
            """
    )

    @OptionGroup var options: JobOptions
    @Option(help: "The backup folder (written by kura backup).") var from: String
    @Flag(help: "Replace an existing catalog (kept as catalog.sqlite.before-restore-<time>).") var force = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var loader = ServeConfigurationLoader()
        var configuration = try loader.load(file: options.config ?? environment["KURA_CONFIG"], environment: environment)
        if let data = options.data { configuration.dataDirectory = data }
        let blobs = try await KuraServer.makeBlobStore(configuration)
        let progress = JobProgress(json: options.json)
        do {
            let summary = try await RegistryBackup.restore(
                from: from, catalogPath: configuration.catalogPath, blobs: blobs, force: force) { progress.update($0) }
            progress.finish()
            if options.json { return try printJSON(summary) }
            print("restored \(summary.catalogPath) in \(format(summary.seconds, 2)) s")
            print("  \(summary.blobsVerified) blobs verified (\(formatBytes(summary.bytesVerified))), \(summary.blobsCopied) copied from the backup")
        } catch let refusal as RestoreRefusal {
            progress.finish()
            if options.json {
                struct Refused: Encodable {
                    var refused: String
                    var missing: [String]
                }
                var missing: [String] = []
                if case .blobsMissing(let list) = refusal { missing = list }
                try printJSON(Refused(refused: refusal.description, missing: missing))
            } else {
                FileHandle.standardError.write(Data("kura restore: \(refusal)\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}
