public import Foundation
import GRDB
import KuraCore
import KuraStorage

/// The offline vulnerability database: OSV records the operator imports from files, in
/// their own SQLite file. Imports are one transaction each, so a bad file leaves the
/// database as it was.
public final class AdvisoryDatabase: Sendable {
    private let writer: any DatabaseWriter

    /// Closes the database file; the database is unusable afterwards.
    public func close() throws {
        try writer.close()
    }

    /// Opens (creating if needed) the database at `path` in WAL mode.
    public convenience init(path: String) throws {
        try self.init(writer: DatabasePool(path: path, configuration: Self.configuration()))
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> AdvisoryDatabase {
        try AdvisoryDatabase(writer: DatabaseQueue(configuration: configuration()))
    }

    private init(writer: any DatabaseWriter) throws {
        try AdvisorySchema.migrator.migrate(writer)
        self.writer = writer
    }

    private static func configuration() -> Configuration {
        var config = Configuration()
        config.label = "kura.advisories"
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        return config
    }

    // MARK: import

    /// Imports every OSV record at `url` (a folder, a `.zip` or one `.json`): new advisories
    /// are added, changed ones replaced, withdrawn ones removed, records for ecosystems the
    /// scanner does not know are counted as skipped. `progress` is called every `every`
    /// documents with the count so far.
    @discardableResult
    public func importAdvisories(
        from url: URL, now: Date = Date(), every: Int = 1_000, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> AdvisoryImport {
        let source = OSVSource(url: url)
        return try await writer.write { db in
            var counts = AdvisoryImport.Counts()
            let coders = (JSONDecoder(), JSONEncoder())
            try source.forEachDocument { name, data in
                try Self.importDocument(name: name, data: data, into: db, counts: &counts, coders: coders)
                if counts.documents % every == 0 { progress(counts.documents) }
            }
            try db.execute(
                sql: """
                    INSERT INTO imports (imported_at, source, documents, added, updated, unchanged, withdrawn, skipped)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [Int64(now.timeIntervalSince1970 * 1000), url.path, counts.documents, counts.added, counts.updated,
                            counts.unchanged, counts.withdrawn, counts.skipped])
            return AdvisoryImport(id: db.lastInsertedRowID, importedAt: now, source: url.path, counts: counts)
        }
    }

    private static func importDocument(
        name: String, data: Data, into db: Database, counts: inout AdvisoryImport.Counts, coders: (JSONDecoder, JSONEncoder)
    ) throws {
        let document: OSVDocument
        do {
            document = try coders.0.decode(OSVDocument.self, from: data)
        } catch {
            throw AdvisoryImportError.invalidDocument(name: name, reason: Self.describe(error))
        }
        guard !document.id.isEmpty else { throw AdvisoryImportError.invalidDocument(name: name, reason: "empty id") }
        counts.documents += 1
        let hash = ContentHasher.digest(.sha256, of: data).description
        let existing = try String.fetchOne(db, sql: "SELECT content_hash FROM advisories WHERE id = ?", arguments: [document.id])

        if document.withdrawn != nil {
            if existing != nil {
                try db.execute(sql: "DELETE FROM advisories WHERE id = ?", arguments: [document.id])
                counts.withdrawn += 1
            }
            return
        }
        let rows = try affectedRows(of: document)
        if rows.isEmpty && existing == nil {
            counts.skipped += 1
            return
        }
        if existing == hash {
            counts.unchanged += 1
            return
        }
        if existing != nil {
            try db.execute(sql: "DELETE FROM advisories WHERE id = ?", arguments: [document.id])
            counts.updated += 1
        } else {
            counts.added += 1
        }
        guard !rows.isEmpty else { return }
        let aliases = String(decoding: try coders.1.encode(Self.aliases(of: document)), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO advisories (id, modified, content_hash, summary, aliases) VALUES (?, ?, ?, ?, ?)",
            arguments: [document.id, document.modified, hash, document.summary ?? String((document.details ?? "").prefix(200)), aliases])
        let insert = try db.cachedStatement(
            sql: "INSERT INTO affected (advisory_id, ecosystem, release, package, ranges, severity, score, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        for row in rows {
            try insert.execute(arguments: [
                document.id, row.ecosystem.ecosystem.rawValue, row.ecosystem.release, row.package,
                String(decoding: try coders.1.encode(row.ranges), as: UTF8.self),
                row.severity.severity.rawValue, row.severity.score, row.severity.vector,
            ])
        }
    }

    private struct AffectedRow {
        let ecosystem: OSVEcosystem
        let package: String
        let ranges: AffectedRanges
        let severity: AdvisorySeverity
    }

    private static func affectedRows(of document: OSVDocument) throws -> [AffectedRow] {
        (document.affected ?? []).compactMap { affected in
            guard let package = affected.package, let ecosystem = OSVEcosystem(package.ecosystem) else { return nil }
            let ranges = (affected.ranges ?? []).filter { $0.type == "ECOSYSTEM" || $0.type == "SEMVER" }.map(\.events)
            // PyPI names match after PEP 503 normalisation ("Django" is "django").
            let name = ecosystem.ecosystem == .pypi ? PyPIName.normalize(package.name) : package.name
            return AffectedRow(
                ecosystem: ecosystem, package: name,
                ranges: AffectedRanges(ranges: ranges, versions: affected.versions ?? []),
                severity: AdvisorySeverity(document: document, affected: affected))
        }
    }

    /// CVE ids under which the advisory is known: its own id if it is one, its aliases, and
    /// the `upstream` ids distributions use for the CVEs their advisory covers.
    private static func aliases(of document: OSVDocument) -> [String] {
        var seen = Set<String>()
        return ([document.id] + (document.aliases ?? []) + (document.upstream ?? [])).filter { $0 != document.id && seen.insert($0).inserted }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let context):
            "not JSON (\(context.underlyingError.map { "\($0)" } ?? context.debugDescription))"
        default:
            "\(error)"
        }
    }

    // MARK: queries

    /// Every advisory entry for `package` in `ecosystem`; for distributions, the entries for
    /// `release` and those that name no release.
    public func entries(ecosystem: Ecosystem, release: String, package: String) async throws -> [AdvisoryEntry] {
        try await writer.read { db in try Self.entries(db, ecosystem: ecosystem, release: release, package: package) }
    }

    /// Entries for many packages in one read, keyed as asked.
    public func entries(for keys: Set<AdvisoryKey>) async throws -> [AdvisoryKey: [AdvisoryEntry]] {
        try await writer.read { db in
            var result: [AdvisoryKey: [AdvisoryEntry]] = [:]
            for key in keys {
                result[key] = try Self.entries(db, ecosystem: key.ecosystem, release: key.release, package: key.package)
            }
            return result
        }
    }

    private static func entries(_ db: Database, ecosystem: Ecosystem, release: String, package: String) throws -> [AdvisoryEntry] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT a.id, a.summary, a.aliases, f.ranges, f.severity, f.score, f.vector
                FROM affected f JOIN advisories a ON a.id = f.advisory_id
                WHERE f.ecosystem = ? AND f.package = ? AND (f.release = ? OR f.release = '')
                ORDER BY a.id
                """,
            arguments: [ecosystem.rawValue, package, release])
        let decoder = JSONDecoder()
        return try rows.map { row in
            AdvisoryEntry(
                ecosystem: ecosystem, id: row["id"], summary: row["summary"],
                aliases: try decoder.decode([String].self, from: Data((row["aliases"] as String).utf8)),
                ranges: try decoder.decode(AffectedRanges.self, from: Data((row["ranges"] as String).utf8)),
                severity: Severity(rawValue: row["severity"]) ?? .unknown, score: row["score"], vector: row["vector"])
        }
    }

    /// The database's state: how many advisories it holds and its latest import.
    public func status() async throws -> AdvisoryDatabaseStatus {
        try await writer.read { db in
            let advisories = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM advisories") ?? 0
            let affected = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM affected") ?? 0
            let latest = try Row.fetchOne(db, sql: "SELECT * FROM imports ORDER BY id DESC LIMIT 1").map { row in
                AdvisoryImport(
                    id: row["id"], importedAt: Date(timeIntervalSince1970: Double(row["imported_at"] as Int64) / 1000),
                    source: row["source"],
                    counts: .init(documents: row["documents"], added: row["added"], updated: row["updated"],
                                  unchanged: row["unchanged"], withdrawn: row["withdrawn"], skipped: row["skipped"]))
            }
            return AdvisoryDatabaseStatus(advisories: advisories, affectedPackages: affected, latestImport: latest)
        }
    }
}

/// Which advisories to look up: one package name in one ecosystem (and release).
public struct AdvisoryKey: Hashable, Sendable {
    public let ecosystem: Ecosystem
    public let release: String
    public let package: String

    public init(ecosystem: Ecosystem, release: String, package: String) {
        self.ecosystem = ecosystem
        self.release = release
        self.package = package
    }
}

/// One advisory's statement about one package.
public struct AdvisoryEntry: Sendable, Equatable {
    public let ecosystem: Ecosystem
    public let id: String
    public let summary: String
    public let aliases: [String]
    let ranges: AffectedRanges
    public let severity: Severity
    public let score: Double?
    public let vector: String?

    /// Whether `installed` (a version of the package this entry is about) is affected.
    public func verdict(for installed: String) -> AffectedVerdict {
        ranges.verdict(for: installed, scheme: ecosystem.versionScheme)
    }
}

/// What one import did; its id is the database version results are matched against.
public struct AdvisoryImport: Sendable, Equatable, Codable {
    public struct Counts: Sendable, Equatable, Codable {
        public var documents = 0
        public var added = 0
        public var updated = 0
        public var unchanged = 0
        public var withdrawn = 0
        /// Records only for ecosystems the scanner does not know.
        public var skipped = 0
    }

    public let id: Int64
    public let importedAt: Date
    public let source: String
    public let counts: Counts
}

public struct AdvisoryDatabaseStatus: Sendable, Equatable, Codable {
    public let advisories: Int
    public let affectedPackages: Int
    public let latestImport: AdvisoryImport?
}
