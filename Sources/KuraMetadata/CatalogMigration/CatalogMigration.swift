import Foundation

/// Copies a SQLite catalog into a PostgreSQL one (`kura catalog migrate`), so a one-machine
/// registry moves up to a shared catalog without re-pushing anything: the blobs stay where
/// they are, the catalog rows move, and the keys of the data folder go with them (an access
/// key made before still authenticates after, on every node).
///
/// - Every table of ``CatalogMigrationTable/all`` is read in key order from one snapshot of
///   the source and written in batches; each batch commits together with the record of how
///   far its table has come. A run that stops anywhere (killed, a lost connection) is
///   resumed by running again: it continues after the last committed batch.
/// - A target that holds anything (a catalog a node already uses, a finished migration) is
///   refused unless `force`, which empties it first.
/// - At the end the rows of every table are counted on both sides; the migration is marked
///   done only if every count agrees.
public struct CatalogMigration: Sendable {
    /// The record of progress in the target, and the name of its row for the whole run.
    static let progressTable = "kura_catalog_migration"
    static let overallName = "*"

    /// The SQLite catalog file (`DATA/catalog.sqlite`): brought to the current schema first
    /// (as `kura serve` would), then only read.
    public var sourcePath: String
    /// Keys of the data folder that every node must share, by their name in the catalog
    /// (see ``SharedKeyStore``).
    public var sharedKeys: [String: [UInt8]]
    public var target: PostgresCatalog
    /// Empty a target that holds anything, instead of refusing it.
    public var force: Bool
    public var batchSize: Int

    public init(sourcePath: String, sharedKeys: [String: [UInt8]], target: PostgresCatalog, force: Bool = false, batchSize: Int = 1000) {
        self.sourcePath = sourcePath
        self.sharedKeys = sharedKeys
        self.target = target
        self.force = force
        self.batchSize = max(1, batchSize)
    }

    /// Runs (or resumes) the migration. `progress` hears after every committed batch; what
    /// it throws stops the run, which a later run resumes.
    public func run(
        progress: @Sendable (CatalogMigrationProgress) async throws -> Void = { _ in }
    ) async throws -> CatalogMigrationSummary {
        let started = Date()
        guard FileManager.default.fileExists(atPath: sourcePath) else { throw CatalogMigrationError.noSourceCatalog(sourcePath) }
        let store = try SQLiteMetadataStore(path: sourcePath)
        defer { try? store.close() }
        let source = try SQLiteCatalogExport(store)
        let known = Set(CatalogMigrationTable.all.map(\.name)).union(CatalogMigrationTable.notCopied.keys)
        if let unknown = try await source.tableNames().subtracting(known).sorted().first {
            throw CatalogMigrationError.unknownTable(unknown)
        }
        let sourceID = URL(fileURLWithPath: sourcePath).resolvingSymlinksInPath().path

        var summary = CatalogMigrationSummary(source: sourceID)
        let state = try await prepareTarget(source: sourceID, summary: &summary)
        for (index, table) in CatalogMigrationTable.all.enumerated() {
            let total = try await source.count(table)
            let previous = state[table.name]
            var copied: Int64 = 0
            if previous?.finished != true {
                copied = try await copy(
                    table, from: source, after: previous, source: sourceID,
                    report: { done in
                        try await progress(
                            CatalogMigrationProgress(
                                table: table.name, copied: done, total: total, tableNumber: index + 1,
                                tableCount: CatalogMigrationTable.all.count))
                    })
            }
            summary.tables.append(.init(name: table.name, sourceRows: total, targetRows: 0, copiedThisRun: copied))
            summary.rowsCopied += copied
        }
        for (name, value) in sharedKeys.sorted(by: { $0.key < $1.key }) {
            guard try await target.sharedKey(name, orStore: value) == value else { throw CatalogMigrationError.sharedKeyDiffers(name) }
            summary.sharedKeys.append(name)
        }
        for index in summary.tables.indices {
            summary.tables[index].targetRows = try await target.rowCount(summary.tables[index].name)
        }
        let differing = summary.tables.filter { $0.sourceRows != $0.targetRows }
        guard differing.isEmpty else { throw CatalogMigrationError.countsDiffer(differing) }
        try await target.finishMigration(of: Self.overallName, source: sourceID)
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Decides between resuming, starting on an empty target, emptying it (`force`) and
    /// refusing; returns the progress to resume from.
    private func prepareTarget(
        source: String, summary: inout CatalogMigrationSummary
    ) async throws -> [String: PostgresCatalog.MigrationProgressRow] {
        let state = try await target.migrationProgress()
        if let overall = state[Self.overallName], !overall.finished, overall.source == source, !force {
            summary.resumed = true
            return state
        }
        var occupied: [String] = []
        for table in CatalogMigrationTable.all.map(\.name) + ["kura_shared_keys"] where try await target.hasRows(table) {
            occupied.append(table)
        }
        if !occupied.isEmpty || !state.isEmpty {
            guard force else {
                if let overall = state[Self.overallName], !overall.finished {
                    throw CatalogMigrationError.otherSourceInProgress(overall.source)
                }
                throw CatalogMigrationError.targetNotEmpty(occupied.isEmpty ? [Self.progressTable] : occupied)
            }
            try await target.truncate(CatalogMigrationTable.all.map(\.name) + ["kura_shared_keys"])
            summary.replacedTarget = true
        }
        try await target.startMigration(source: source)
        return [:]
    }

    /// Copies one table from where `previous` left it; returns the rows copied by this run.
    private func copy(
        _ table: CatalogMigrationTable, from source: SQLiteCatalogExport, after previous: PostgresCatalog.MigrationProgressRow?,
        source sourceID: String, report: (Int64) async throws -> Void
    ) async throws -> Int64 {
        let keyIndices = table.key.compactMap { name in table.columns.firstIndex { $0.name == name } }
        var after = try previous?.lastKey.map { try JSONDecoder().decode([CatalogCell].self, from: Data($0.utf8)) }
        var done = previous?.rowsCopied ?? 0
        var copied: Int64 = 0
        let limit = min(batchSize, table.maximumBatch)
        try await report(done)
        while true {
            let batch = try await source.rows(of: table, after: after, limit: limit)
            guard let last = batch.last else { break }
            let key = keyIndices.map { last[$0] }
            let encodedKey = String(decoding: try JSONEncoder().encode(key), as: UTF8.self)
            try await target.copyBatch(batch, into: table, lastKey: encodedKey, source: sourceID)
            after = key
            copied += Int64(batch.count)
            done += Int64(batch.count)
            try await report(done)
            if batch.count < limit { break }
        }
        if let serial = table.serial { try await target.moveSequence(of: table.name, column: serial) }
        try await target.finishMigration(of: table.name, source: sourceID)
        return copied
    }
}

/// Where a migration is: `copied` of `total` rows of the `tableNumber`th of `tableCount` tables.
public struct CatalogMigrationProgress: Sendable, Hashable, Codable {
    public var table: String
    public var copied: Int64
    public var total: Int64
    public var tableNumber: Int
    public var tableCount: Int
}

/// What a migration did.
public struct CatalogMigrationSummary: Sendable, Hashable, Codable {
    public struct Table: Sendable, Hashable, Codable {
        public var name: String
        /// Rows in the source's snapshot and, at the end, in the target.
        public var sourceRows: Int64
        public var targetRows: Int64
        /// Rows this run copied (0 for a table an earlier, interrupted run finished).
        public var copiedThisRun: Int64
    }

    public var source: String
    /// An interrupted earlier run was continued.
    public var resumed = false
    /// The target held something and was emptied first (`force`).
    public var replacedTarget = false
    public var seconds: Double = 0
    public var rowsCopied: Int64 = 0
    public var tables: [Table] = []
    /// Keys of the data folder now in the catalog.
    public var sharedKeys: [String] = []
    /// Tables of the source deliberately not copied, and why.
    public var notCopied = CatalogMigrationTable.notCopied

    init(source: String) { self.source = source }
}

/// Why a migration stopped or was refused.
public enum CatalogMigrationError: Error, Sendable, CustomStringConvertible {
    case noSourceCatalog(String)
    case targetNotEmpty([String])
    case otherSourceInProgress(String)
    case unknownTable(String)
    case unexpectedValue(table: String, column: String, value: String)
    case sharedKeyDiffers(String)
    case countsDiffer([CatalogMigrationSummary.Table])

    public var description: String {
        switch self {
        case .noSourceCatalog(let path): "no SQLite catalog at \(path)"
        case .targetNotEmpty(let tables):
            "the PostgreSQL catalog is not empty (rows in \(tables.joined(separator: ", "))); "
                + "pass --force to delete what it holds and copy into it"
        case .otherSourceInProgress(let source):
            "the PostgreSQL catalog holds an unfinished migration from \(source); run it again from there, or pass --force to start over"
        case .unknownTable(let table): "the SQLite catalog has a table this Kura does not know how to copy: \(table) (a newer Kura made it?)"
        case .unexpectedValue(let table, let column, let value): "\(table).\(column) holds a value PostgreSQL cannot take: \(value)"
        case .sharedKeyDiffers(let name):
            "the PostgreSQL catalog already holds a different \(name) key (a node started on it?); pass --force to start over"
        case .countsDiffer(let tables):
            "row counts differ after copying (did a server write to the SQLite catalog meanwhile? stop it and run again with --force): "
                + tables.map { "\($0.name) \($0.sourceRows) in SQLite, \($0.targetRows) in PostgreSQL" }.joined(separator: "; ")
        }
    }
}
