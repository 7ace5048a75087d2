import GRDB

/// The access tables: accounts, access keys, grants, namespaces, descriptions, audit log.
enum SQLiteAccessSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("access-v1") { db in
            try db.execute(sql: v1)
        }
    }

    private static let v1 = """
        CREATE TABLE accounts (
            name TEXT PRIMARY KEY,
            is_root INTEGER NOT NULL DEFAULT 0,
            is_admin INTEGER NOT NULL DEFAULT 0,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE access_keys (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
            secret_hash BLOB NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
            created_at INTEGER NOT NULL,
            last_used_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX access_keys_account ON access_keys(account);

        CREATE TABLE namespaces (
            name TEXT PRIMARY KEY,
            is_public INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE grants (
            account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
            namespace TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('manager', 'viewer')),
            PRIMARY KEY (account, namespace)
        ) WITHOUT ROWID;
        CREATE INDEX grants_namespace ON grants(namespace);

        CREATE TABLE repository_descriptions (
            repository TEXT PRIMARY KEY,
            short TEXT NOT NULL,
            full TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            account TEXT,
            access_key_id TEXT,
            source_address TEXT,
            action TEXT NOT NULL,
            namespace TEXT,
            repository TEXT,
            detail TEXT
        );
        CREATE INDEX audit_events_time ON audit_events(time);
        CREATE INDEX audit_events_account ON audit_events(account, time);
        CREATE INDEX audit_events_namespace ON audit_events(namespace, time);
        """
}
