import Foundation

/// The PostgreSQL catalog's schema, as an ordered list of migrations (the same tables as
/// SQLite's, see ``SQLiteSchema``): a migration, once shipped, never changes.
///
/// Dates are integer milliseconds since 1970 and digests their canonical text, as in
/// SQLite, so a catalog copies between the two row for row. Every text column that is
/// ordered or compared by range is `COLLATE "C"`: byte order, whatever the database's
/// locale, as ``MetadataStore`` requires.
///
/// SQLite serialises every write transaction; PostgreSQL runs them side by side (READ
/// COMMITTED), so the guards of garbage collection take row locks where SQLite's triggers
/// had the database to themselves: a writer locks the `gc_blobs` row of every digest it
/// links or refers to (and the child manifests it refers to), GC locks the same rows before
/// it re-checks them, so one of the two waits for the other and then sees its writes.
enum PostgresSchema {
    struct Migration: Sendable {
        let version: Int
        let name: String
        let sql: String
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "catalog", sql: catalog),
        Migration(version: 2, name: "gc", sql: gc),
        Migration(version: 3, name: "access", sql: access),
        Migration(version: 4, name: "retention, usage, quotas, webhooks", sql: operations),
        Migration(version: 5, name: "shared keys", sql: sharedKeys),
        Migration(version: 6, name: "replication rules", sql: replication),
        Migration(version: 7, name: "scans", sql: scans),
        Migration(version: 8, name: "catalog migration progress", sql: catalogMigration),
        // The console's, numbered from 20 while other branches added theirs (a migration is
        // applied when its number is missing, so the gap is harmless).
        Migration(version: 20, name: "tag history indexes", sql: tagHistory),
        Migration(version: 21, name: "console sessions", sql: consoleSessions),
        Migration(version: 22, name: "tag pulls", sql: tagPulls),
        Migration(version: 23, name: "stored bytes per day", sql: storageHistory),
        Migration(version: 30, name: "catalog change notifications", sql: changeNotifications),
        Migration(version: 31, name: "tag and manifest change notifications", sql: manifestNotifications),
    ]

    /// The statements of a migration, one by one: postgres-nio speaks only the extended
    /// query protocol, which takes one statement at a time. A statement ends at a line
    /// ending in `;` outside a `$$` function body.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") || (trimmed.isEmpty && current.isEmpty) { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, trimmed.hasSuffix(";") {
                statements.append(current)
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { statements.append(current) }
        return statements
    }

    /// The advisory lock key that makes one node migrate while the others wait ("kura" in ASCII).
    static let migrationLockKey: Int64 = 0x6b75_7261

    private static let catalog = """
        CREATE TABLE repositories (
            id BIGSERIAL PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL UNIQUE,
            created_at BIGINT NOT NULL
        );

        CREATE TABLE blob_links (
            repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            digest TEXT COLLATE "C" NOT NULL,
            size BIGINT NOT NULL,
            linked_at BIGINT NOT NULL,
            PRIMARY KEY (repository_id, digest)
        );
        CREATE INDEX blob_links_by_digest ON blob_links(digest);

        CREATE TABLE manifests (
            row_id BIGSERIAL NOT NULL UNIQUE,
            repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            digest TEXT COLLATE "C" NOT NULL,
            media_type TEXT NOT NULL,
            size BIGINT NOT NULL,
            artifact_type TEXT,
            subject TEXT COLLATE "C",
            annotations TEXT NOT NULL DEFAULT '{}',
            created_at BIGINT NOT NULL,
            PRIMARY KEY (repository_id, digest)
        );
        CREATE INDEX manifests_by_subject ON manifests(repository_id, subject) WHERE subject IS NOT NULL;
        CREATE INDEX manifests_by_digest ON manifests(digest);

        CREATE TABLE manifest_references (
            repository_id BIGINT NOT NULL,
            manifest_digest TEXT COLLATE "C" NOT NULL,
            child_digest TEXT COLLATE "C" NOT NULL,
            kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('blob', 'manifest')),
            PRIMARY KEY (repository_id, manifest_digest, child_digest, kind),
            FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
        );
        CREATE INDEX manifest_references_by_child ON manifest_references(child_digest);

        CREATE TABLE tags (
            repository_id BIGINT NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            manifest_digest TEXT COLLATE "C" NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (repository_id, name),
            FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
        );
        CREATE INDEX tags_by_manifest ON tags(repository_id, manifest_digest);

        CREATE TABLE uploads (
            id TEXT COLLATE "C" PRIMARY KEY,
            repository TEXT COLLATE "C" NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX uploads_by_repository ON uploads(repository);
        """

    private static let gc = """
        CREATE TABLE gc_blobs (
            digest TEXT COLLATE "C" PRIMARY KEY,
            size BIGINT NOT NULL,
            last_linked_at BIGINT NOT NULL,
            state SMALLINT NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
            collected_at BIGINT
        );
        CREATE INDEX gc_blobs_by_state ON gc_blobs(state, collected_at) WHERE state <> 0;

        CREATE TABLE gc_deleted_manifests (
            repository_id BIGINT NOT NULL,
            digest TEXT COLLATE "C" NOT NULL,
            deleted_at BIGINT NOT NULL,
            PRIMARY KEY (repository_id, digest)
        );

        CREATE FUNCTION kura_now_ms() RETURNS BIGINT LANGUAGE sql STABLE
            AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $$;

        -- A link records the digest (locking its row) and is refused while GC collects it.
        CREATE FUNCTION kura_gc_blob_link() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE current_state SMALLINT;
        BEGIN
            INSERT INTO gc_blobs AS b (digest, size, last_linked_at) VALUES (NEW.digest, NEW.size, NEW.linked_at)
            ON CONFLICT (digest) DO UPDATE
                SET last_linked_at = GREATEST(b.last_linked_at, EXCLUDED.last_linked_at), size = EXCLUDED.size
            RETURNING b.state INTO current_state;
            IF current_state = 1 THEN
                RAISE EXCEPTION 'kura-gc-conflict: blob is being garbage-collected' USING ERRCODE = 'KU001';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER gc_blob_links_link BEFORE INSERT OR UPDATE ON blob_links
            FOR EACH ROW EXECUTE FUNCTION kura_gc_blob_link();

        CREATE FUNCTION kura_gc_manifest_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE current_state SMALLINT;
        BEGIN
            INSERT INTO gc_blobs AS b (digest, size, last_linked_at) VALUES (NEW.digest, NEW.size, kura_now_ms())
            ON CONFLICT (digest) DO UPDATE SET last_linked_at = GREATEST(b.last_linked_at, EXCLUDED.last_linked_at)
            RETURNING b.state INTO current_state;
            IF current_state = 1 THEN
                RAISE EXCEPTION 'kura-gc-conflict: manifest is being garbage-collected' USING ERRCODE = 'KU001';
            END IF;
            DELETE FROM gc_deleted_manifests WHERE repository_id = NEW.repository_id AND digest = NEW.digest;
            RETURN NEW;
        END $$;
        CREATE TRIGGER gc_manifests_insert BEFORE INSERT ON manifests
            FOR EACH ROW EXECUTE FUNCTION kura_gc_manifest_insert();

        -- A reference locks what it refers to (shared), so GC, which locks it exclusively
        -- before its re-check, either waits for this transaction and then sees the reference,
        -- or has finished and this sees its marks.
        CREATE FUNCTION kura_gc_reference_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE current_state SMALLINT;
        BEGIN
            IF NEW.kind = 'blob' THEN
                SELECT state INTO current_state FROM gc_blobs WHERE digest = NEW.child_digest FOR SHARE;
                IF current_state IN (1, 2) THEN
                    RAISE EXCEPTION 'kura-gc-conflict: a referenced blob was garbage-collected' USING ERRCODE = 'KU001';
                END IF;
            ELSE
                PERFORM 1 FROM manifests WHERE repository_id = NEW.repository_id AND digest = NEW.child_digest FOR SHARE;
                IF EXISTS (SELECT 1 FROM gc_deleted_manifests d
                           WHERE d.repository_id = NEW.repository_id AND d.digest = NEW.child_digest) THEN
                    RAISE EXCEPTION 'kura-gc-conflict: a referenced manifest was garbage-collected' USING ERRCODE = 'KU001';
                END IF;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER gc_manifest_references_insert BEFORE INSERT ON manifest_references
            FOR EACH ROW EXECUTE FUNCTION kura_gc_reference_insert();

        CREATE TABLE gc_job_runs (
            id BIGSERIAL PRIMARY KEY,
            kind TEXT COLLATE "C" NOT NULL,
            owner TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT,
            dry_run BOOLEAN NOT NULL,
            summary TEXT,
            error TEXT
        );
        CREATE INDEX gc_job_runs_by_kind ON gc_job_runs(kind, id);

        CREATE TABLE gc_job_locks (
            name TEXT COLLATE "C" PRIMARY KEY,
            owner TEXT NOT NULL,
            acquired_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        """

    private static let access = """
        CREATE TABLE accounts (
            name TEXT COLLATE "C" PRIMARY KEY,
            is_root BOOLEAN NOT NULL DEFAULT false,
            is_admin BOOLEAN NOT NULL DEFAULT false,
            disabled BOOLEAN NOT NULL DEFAULT false,
            created_at BIGINT NOT NULL
        );

        CREATE TABLE access_keys (
            id TEXT COLLATE "C" PRIMARY KEY,
            account TEXT COLLATE "C" NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
            secret_hash BYTEA NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
            created_at BIGINT NOT NULL,
            last_used_at BIGINT
        );
        CREATE INDEX access_keys_account ON access_keys(account);

        CREATE TABLE namespaces (
            name TEXT COLLATE "C" PRIMARY KEY,
            is_public BOOLEAN NOT NULL DEFAULT false,
            created_at BIGINT NOT NULL
        );

        CREATE TABLE grants (
            account TEXT COLLATE "C" NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
            namespace TEXT COLLATE "C" NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('manager', 'viewer')),
            PRIMARY KEY (account, namespace)
        );
        CREATE INDEX grants_namespace ON grants(namespace);

        CREATE TABLE repository_descriptions (
            repository TEXT COLLATE "C" PRIMARY KEY,
            short TEXT NOT NULL,
            "full" TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );

        CREATE TABLE audit_events (
            id BIGSERIAL PRIMARY KEY,
            time BIGINT NOT NULL,
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

    private static let replication = """
        CREATE TABLE replication_rules (
            name TEXT COLLATE "C" PRIMARY KEY,
            document BYTEA NOT NULL,
            updated_at BIGINT NOT NULL
        );
        """

    private static let sharedKeys = """
        CREATE TABLE kura_shared_keys (
            name TEXT COLLATE "C" PRIMARY KEY,
            value BYTEA NOT NULL,
            created_at BIGINT NOT NULL
        );
        """

    private static let operations = """
        CREATE TABLE retention_policies (scope TEXT COLLATE "C" PRIMARY KEY, policy TEXT NOT NULL);

        CREATE TABLE usage_hourly (
            hour BIGINT NOT NULL,
            namespace TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            access_key_id TEXT COLLATE "C" NOT NULL,
            kind TEXT COLLATE "C" NOT NULL,
            calls BIGINT NOT NULL DEFAULT 0,
            bytes_in BIGINT NOT NULL DEFAULT 0,
            bytes_out BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (hour, namespace, repository, access_key_id, kind)
        );
        CREATE INDEX usage_hourly_by_namespace ON usage_hourly(namespace, hour);

        CREATE TABLE namespace_quotas (
            namespace TEXT COLLATE "C" PRIMARY KEY,
            max_bytes BIGINT NOT NULL CHECK (max_bytes >= 0)
        );

        CREATE TABLE webhooks (
            id TEXT COLLATE "C" PRIMARY KEY,
            namespace TEXT COLLATE "C" NOT NULL,
            url TEXT NOT NULL,
            sealed_secret BYTEA NOT NULL,
            events TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX webhooks_by_namespace ON webhooks(namespace);
        """

    /// The channel the triggers of ``changeNotifications`` notify on.
    static let changeChannel = "kura_catalog"

    /// Every statement that changes what nodes cache notifies `kura_catalog` with the kind
    /// of state (``CatalogChange``'s raw value), from a trigger: in the writing transaction,
    /// so the notification goes out at its commit (and not at all on a rollback), whoever
    /// wrote — a node, `kura catalog migrate`, or SQL by hand. PostgreSQL folds identical
    /// notifications of one transaction into one. A key's "last used" time is written on
    /// logins and changes nothing cached, so it notifies nothing.
    private static let changeNotifications = """
        CREATE FUNCTION kura_announce_change() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('kura_catalog', TG_ARGV[0]);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;

        CREATE TRIGGER accounts_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_change('accounts');
        CREATE TRIGGER access_keys_announce AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, account, secret_hash, status ON access_keys
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_change('access_keys');
        CREATE TRIGGER grants_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_change('grants');
        CREATE TRIGGER namespaces_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON namespaces
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_change('namespaces');
        CREATE TRIGGER webhooks_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhooks
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_change('webhooks');
        CREATE TRIGGER scan_policies_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scan_policies
            FOR EACH STATEMENT EXECUTE FUNCTION kura_announce_change('scan_policies');
        """
}
