import Foundation
import GRDB
public import KuraCore

extension SQLiteMetadataStore: ScanStore {
    public func putScan(_ record: ScanRecord) async throws {
        try await dbWriter.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO scan_results (manifest, repository, status, reason, scanned_at, database_import, report)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [record.manifest.description, record.repository, record.status.rawValue, record.reason,
                            record.scannedAt.catalogMilliseconds, record.databaseImport, record.report])
        }
    }

    public func scan(of manifest: Digest) async throws -> ScanRecord? {
        try await dbWriter.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM scan_results WHERE manifest = ?", arguments: [manifest.description]).map(Self.scanRecord)
        }
    }

    public func succeededScans(after: Digest?, limit: Int) async throws -> [ScanRecord] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM scan_results WHERE status = 'succeeded' AND manifest > ? ORDER BY manifest LIMIT ?",
                arguments: [after?.description ?? "", limit]
            ).map(Self.scanRecord)
        }
    }

    private static func scanRecord(_ row: Row) throws -> ScanRecord {
        let status: String = row["status"]
        guard let parsed = ScanRecord.Status(rawValue: status) else {
            throw MetadataStoreError.corruptValue(column: "scan_results.status", value: status)
        }
        return ScanRecord(
            manifest: try CatalogValue.digest(row["manifest"], column: "scan_results.manifest"), repository: row["repository"],
            status: parsed, reason: row["reason"], scannedAt: Date(catalogMilliseconds: row["scanned_at"]),
            databaseImport: row["database_import"], report: row["report"])
    }

    public func scanPolicy(namespace: String) async throws -> ScanPolicy? {
        try await dbWriter.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM scan_policies WHERE namespace = ?", arguments: [namespace]).map { row in
                let allowList: String = row["allow_list"]
                return ScanPolicy(
                    namespace: row["namespace"], minimumSeverity: row["minimum_severity"],
                    allowList: allowList.split(separator: "\n").map(String.init))
            }
        }
    }

    public func setScanPolicy(_ policy: ScanPolicy) async throws {
        try await write(announcing: .scanPolicies) { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO scan_policies (namespace, minimum_severity, allow_list) VALUES (?, ?, ?)",
                arguments: [policy.namespace, policy.minimumSeverity, policy.allowList.joined(separator: "\n")])
        }
    }

    public func deleteScanPolicy(namespace: String) async throws -> Bool {
        try await write(announcing: .scanPolicies) { db in
            try db.execute(sql: "DELETE FROM scan_policies WHERE namespace = ?", arguments: [namespace])
            return db.changesCount > 0
        }
    }
}

/// Scan results (one row per scanned manifest digest) and per-namespace pull policies.
enum SQLiteScanSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("scans-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE scan_results (
                        manifest TEXT PRIMARY KEY,
                        repository TEXT NOT NULL,
                        status TEXT NOT NULL,
                        reason TEXT,
                        scanned_at INTEGER NOT NULL,
                        database_import INTEGER,
                        report BLOB
                    ) WITHOUT ROWID;
                    CREATE TABLE scan_policies (
                        namespace TEXT PRIMARY KEY,
                        minimum_severity TEXT NOT NULL,
                        allow_list TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
    }
}
