public import Foundation
import GRDB

/// Each namespace's stored bytes per day (see ``UsageStore/recordStorageSamples(_:)``).
extension SQLiteMetadataStore {
    public func recordStorageSamples(_ samples: [StorageSample]) async throws {
        guard !samples.isEmpty else { return }
        try await dbWriter.write { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO storage_daily (day, namespace, physical_bytes, logical_bytes) VALUES (?, ?, ?, ?)
                    ON CONFLICT (day, namespace) DO UPDATE SET physical_bytes = excluded.physical_bytes, logical_bytes = excluded.logical_bytes
                    """)
            for sample in samples {
                try upsert.execute(arguments: [
                    StorageSample.dayStart(of: sample.day).catalogMilliseconds, sample.namespace, sample.physicalBytes, sample.logicalBytes,
                ])
            }
        }
    }

    public func storageSamples(namespace: String, from: Date, to: Date) async throws -> [StorageSample] {
        let rows = try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT day, physical_bytes, logical_bytes FROM storage_daily WHERE namespace = ? AND day >= ? AND day < ? ORDER BY day
                    """, arguments: [namespace, from.catalogMilliseconds, to.catalogMilliseconds]
            ).map { row -> (Int64, Int64, Int64) in (row[0], row[1], row[2]) }
        }
        return rows.map { StorageSample(day: Date(catalogMilliseconds: $0.0), namespace: namespace, physicalBytes: $0.1, logicalBytes: $0.2) }
    }
}

/// Stored bytes per namespace and day.
enum SQLiteStorageHistorySchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("storage-daily-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE storage_daily (
                        day INTEGER NOT NULL,
                        namespace TEXT NOT NULL,
                        physical_bytes INTEGER NOT NULL,
                        logical_bytes INTEGER NOT NULL,
                        PRIMARY KEY (namespace, day)
                    ) WITHOUT ROWID
                    """)
        }
    }
}
