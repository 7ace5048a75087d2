import GRDB

/// The metering tables: hourly usage buckets and namespace quotas.
enum SQLiteUsageSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("usage-v1") { db in
            try db.execute(sql: v1)
        }
    }

    // `hour` is the bucket's start in milliseconds, like every date in the catalog.
    private static let v1 = """
        CREATE TABLE usage_hourly (
            hour INTEGER NOT NULL,
            namespace TEXT NOT NULL,
            repository TEXT NOT NULL,
            access_key_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            calls INTEGER NOT NULL DEFAULT 0,
            bytes_in INTEGER NOT NULL DEFAULT 0,
            bytes_out INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (hour, namespace, repository, access_key_id, kind)
        ) WITHOUT ROWID;
        CREATE INDEX usage_hourly_by_namespace ON usage_hourly(namespace, hour);

        CREATE TABLE namespace_quotas (
            namespace TEXT PRIMARY KEY,
            max_bytes INTEGER NOT NULL CHECK (max_bytes >= 0)
        ) WITHOUT ROWID;
        """
}
