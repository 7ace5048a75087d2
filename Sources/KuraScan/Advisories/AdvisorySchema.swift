import GRDB

/// The advisory database's schema: its own SQLite file, apart from the catalog, so it can
/// be replaced or copied between nodes without touching registry state.
enum AdvisorySchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in try db.execute(sql: v1) }
        return migrator
    }

    // `content_hash` (sha256 of the record as imported) decides whether a re-import
    // changes an advisory. Ranges and versions are JSON: they are only ever read whole,
    // by the matcher, for one package at a time.
    private static let v1 = """
        CREATE TABLE advisories (
            id TEXT PRIMARY KEY,
            modified TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            summary TEXT NOT NULL,
            aliases TEXT NOT NULL
        );

        CREATE TABLE affected (
            advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
            ecosystem TEXT NOT NULL,
            release TEXT NOT NULL,
            package TEXT NOT NULL,
            ranges TEXT NOT NULL,
            severity TEXT NOT NULL,
            score REAL,
            vector TEXT
        );
        CREATE INDEX affected_by_package ON affected(ecosystem, package, release);
        CREATE INDEX affected_by_advisory ON affected(advisory_id);

        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            imported_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            documents INTEGER NOT NULL,
            added INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            unchanged INTEGER NOT NULL,
            withdrawn INTEGER NOT NULL,
            skipped INTEGER NOT NULL
        );
        """
}
