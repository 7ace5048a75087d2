public import Foundation
import PostgresNIO

/// Each namespace's stored bytes per day (see ``SQLiteMetadataStore`` for the same on SQLite).
extension PostgresCatalog {
    /// Nodes sampling the same day write the same figure or a later one: the last write wins.
    public func recordStorageSamples(_ samples: [StorageSample]) async throws {
        guard !samples.isEmpty else { return }
        let ordered = samples.sorted { ($0.namespace, $0.day) < ($1.namespace, $1.day) }
        try await transaction { connection in
            for sample in ordered {
                try await connection.query(
                    """
                    INSERT INTO storage_daily (day, namespace, physical_bytes, logical_bytes)
                    VALUES (\(StorageSample.dayStart(of: sample.day).catalogMilliseconds), \(sample.namespace), \(sample.physicalBytes), \(sample.logicalBytes))
                    ON CONFLICT (namespace, day) DO UPDATE SET physical_bytes = EXCLUDED.physical_bytes, logical_bytes = EXCLUDED.logical_bytes
                    """, logger: self.logger)
            }
        }
    }

    public func storageSamples(namespace: String, from: Date, to: Date) async throws -> [StorageSample] {
        try await rows(
            """
            SELECT day, physical_bytes, logical_bytes FROM storage_daily
            WHERE namespace = \(namespace) AND day >= \(from.catalogMilliseconds) AND day < \(to.catalogMilliseconds) ORDER BY day
            """
        ).decoded { row in
            let (day, physical, logical) = try row.decode((Int64, Int64, Int64).self)
            return StorageSample(day: Date(catalogMilliseconds: day), namespace: namespace, physicalBytes: physical, logicalBytes: logical)
        }
    }
}

extension PostgresSchema {
    /// Stored bytes per namespace and day.
    static let storageHistory = """
        CREATE TABLE storage_daily (
            day BIGINT NOT NULL,
            namespace TEXT COLLATE "C" NOT NULL,
            physical_bytes BIGINT NOT NULL,
            logical_bytes BIGINT NOT NULL,
            PRIMARY KEY (namespace, day)
        );
        """
}
