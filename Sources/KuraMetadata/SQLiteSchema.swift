import GRDB

/// The catalog's SQLite schema, as an ordered list of migrations.
///
/// A migration, once shipped, never changes: later schema changes are new migrations
/// appended here. Dates are integer milliseconds since 1970 (UTC), digests their canonical
/// string (`sha256:…`), and text compares with SQLite's default BINARY collation, so
/// `ORDER BY` is ascending byte order as ``MetadataStore`` requires.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
        }
        SQLiteGCSchema.register(&migrator)
        SQLiteAccessSchema.register(&migrator)
        SQLiteRetentionSchema.register(&migrator)
        SQLiteUsageSchema.register(&migrator)
        SQLiteWebhookSchema.register(&migrator)
        SQLiteReplicationSchema.register(&migrator)
        SQLiteScanSchema.register(&migrator)
        SQLiteTagHistorySchema.register(&migrator)
        SQLiteConsoleSessionSchema.register(&migrator)
        SQLiteTagPullSchema.register(&migrator)
        SQLiteStorageHistorySchema.register(&migrator)
        return migrator
    }

    // Small rows keyed by their natural key are `WITHOUT ROWID` (one B-tree, no separate
    // index for the primary key). `manifests` keeps its rowid because annotations can make
    // its rows large, which WITHOUT ROWID tables handle poorly.
    //
    // Every foreign key's child columns lead an index (a primary key or an explicit one) so
    // that cascading deletes do not scan.
    private static let v1 = """
        CREATE TABLE repositories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );

        CREATE TABLE blob_links (
            repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            digest TEXT NOT NULL,
            size INTEGER NOT NULL,
            linked_at INTEGER NOT NULL,
            PRIMARY KEY (repository_id, digest)
        ) WITHOUT ROWID;
        CREATE INDEX blob_links_by_digest ON blob_links(digest);

        CREATE TABLE manifests (
            repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            digest TEXT NOT NULL,
            media_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            artifact_type TEXT,
            subject TEXT,
            annotations TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            PRIMARY KEY (repository_id, digest)
        );
        -- Partial: most manifests have no subject. `subject = ?` implies NOT NULL, so the
        -- referrers query can use it.
        CREATE INDEX manifests_by_subject ON manifests(repository_id, subject) WHERE subject IS NOT NULL;

        CREATE TABLE manifest_references (
            repository_id INTEGER NOT NULL,
            manifest_digest TEXT NOT NULL,
            child_digest TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
            PRIMARY KEY (repository_id, manifest_digest, child_digest, kind),
            FOREIGN KEY (repository_id, manifest_digest)
                REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
        ) WITHOUT ROWID;
        CREATE INDEX manifest_references_by_child ON manifest_references(child_digest);

        CREATE TABLE tags (
            repository_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            manifest_digest TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (repository_id, name),
            FOREIGN KEY (repository_id, manifest_digest)
                REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
        ) WITHOUT ROWID;
        CREATE INDEX tags_by_manifest ON tags(repository_id, manifest_digest);

        -- No foreign key: an upload may start before its repository exists (the repository
        -- is created when the first blob is linked), so it is matched by name.
        CREATE TABLE uploads (
            id TEXT PRIMARY KEY NOT NULL,
            repository TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX uploads_by_repository ON uploads(repository);
        """
}
