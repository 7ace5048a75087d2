import Foundation
public import KuraCore
import PostgresNIO

// Scan results and pull policies: the same two tables as SQLite's (see `SQLiteScanSchema`),
// so every node sees the result another node's scan stored and the policy set through it.

extension PostgresCatalog: ScanStore {
    public func putScan(_ record: ScanRecord) async throws {
        _ = try await rows(
            """
            INSERT INTO scan_results (manifest, repository, status, reason, scanned_at, database_import, report)
            VALUES (\(record.manifest.description), \(record.repository), \(record.status.rawValue), \(record.reason),
                    \(record.scannedAt.catalogMilliseconds), \(record.databaseImport), \(record.report))
            ON CONFLICT (manifest) DO UPDATE SET repository = EXCLUDED.repository, status = EXCLUDED.status,
                reason = EXCLUDED.reason, scanned_at = EXCLUDED.scanned_at, database_import = EXCLUDED.database_import,
                report = EXCLUDED.report
            """)
    }

    public func scan(of manifest: Digest) async throws -> ScanRecord? {
        try await rows("SELECT \(unescaped: Self.scanColumns) FROM scan_results WHERE manifest = \(manifest.description)")
            .firstDecoded(Self.scanRecord)
    }

    public func succeededScans(after: Digest?, limit: Int) async throws -> [ScanRecord] {
        guard limit > 0 else { return [] }
        return try await rows(
            """
            SELECT \(unescaped: Self.scanColumns) FROM scan_results
            WHERE status = 'succeeded' AND manifest > \(after?.description ?? "") ORDER BY manifest LIMIT \(limit)
            """
        ).decoded(Self.scanRecord)
    }

    public func scanPolicy(namespace: String) async throws -> ScanPolicy? {
        try await rows("SELECT minimum_severity, allow_list FROM scan_policies WHERE namespace = \(namespace)").firstDecoded { row in
            let (severity, allowList) = try row.decode((String, String).self)
            return ScanPolicy(
                namespace: namespace, minimumSeverity: severity, allowList: allowList.split(separator: "\n").map(String.init))
        }
    }

    public func setScanPolicy(_ policy: ScanPolicy) async throws {
        defer { announceLocally(.scanPolicies) }
        _ = try await rows(
            """
            INSERT INTO scan_policies (namespace, minimum_severity, allow_list)
            VALUES (\(policy.namespace), \(policy.minimumSeverity), \(policy.allowList.joined(separator: "\n")))
            ON CONFLICT (namespace) DO UPDATE SET minimum_severity = EXCLUDED.minimum_severity, allow_list = EXCLUDED.allow_list
            """)
    }

    public func deleteScanPolicy(namespace: String) async throws -> Bool {
        defer { announceLocally(.scanPolicies) }
        return try await !rows("DELETE FROM scan_policies WHERE namespace = \(namespace) RETURNING 1").isEmpty
    }

    private static let scanColumns = "manifest, repository, status, reason, scanned_at, database_import, report"

    private static func scanRecord(_ row: PostgresRow) throws -> ScanRecord {
        let (manifest, repository, status, reason, scanned, databaseImport, report) =
            try row.decode((String, String, String, String?, Int64, Int64?, Data?).self)
        guard let parsed = ScanRecord.Status(rawValue: status) else {
            throw MetadataStoreError.corruptValue(column: "scan_results.status", value: status)
        }
        return ScanRecord(
            manifest: try CatalogValue.digest(manifest, column: "scan_results.manifest"), repository: repository, status: parsed,
            reason: reason, scannedAt: Date(catalogMilliseconds: scanned), databaseImport: databaseImport, report: report)
    }
}

extension PostgresSchema {
    /// Migration 7: scan results (one row per scanned manifest digest) and per-namespace pull
    /// policies.
    static let scans = """
        CREATE TABLE scan_results (
            manifest TEXT COLLATE "C" PRIMARY KEY,
            repository TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            scanned_at BIGINT NOT NULL,
            database_import BIGINT,
            report BYTEA
        );

        CREATE TABLE scan_policies (
            namespace TEXT COLLATE "C" PRIMARY KEY,
            minimum_severity TEXT NOT NULL,
            allow_list TEXT NOT NULL
        );
        """
}
