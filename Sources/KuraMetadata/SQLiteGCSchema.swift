import GRDB

/// The catalog tables and triggers garbage collection, scrub and the job runner need,
/// registered after ``SQLiteSchema``'s `v1`.
///
/// - `gc_blobs`: one row per digest the registry has ever stored (blobs and manifests),
///   kept by triggers on `blob_links` and `manifests`, so no other code path has to know
///   about it. `last_linked_at` is the newest link (or manifest insert) of the digest in
///   any repository, even one deleted since, which is what the grace period is measured
///   against. `state` is 0 (live), 1 (being collected: catalog rows gone, object being
///   deleted) or 2 (collected: the object is, or may be, gone).
/// - Guards (triggers) refuse, with an error starting `kura-gc-conflict`, to link a blob
///   that is being collected, to store a manifest whose own object is being collected, and
///   to store a manifest that refers to a collected blob or to a child manifest GC just
///   deleted. See ``GarbageCollectionStore`` for the protocol these guards are part of.
/// - `gc_deleted_manifests`: manifests GC deleted (untagged, orphaned referrers), so an
///   index PUT that validated its children before the deletion cannot commit after it.
/// - `gc_job_runs`, `gc_job_locks`: the record of every job run, and the lease that makes
///   one runner at a time, across processes and (with a shared catalog) nodes.
enum SQLiteGCSchema {
    /// Registers the garbage collection migrations; call right after `v1`.
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("gc-v1") { db in
            try db.execute(sql: v1)
        }
    }

    /// SQLite's current time as the catalog's integer milliseconds.
    static let nowMilliseconds = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

    private static let v1 = """
        CREATE TABLE gc_blobs (
            digest TEXT PRIMARY KEY NOT NULL,
            size INTEGER NOT NULL,
            last_linked_at INTEGER NOT NULL,
            state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
            collected_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX gc_blobs_by_state ON gc_blobs(state, collected_at) WHERE state <> 0;

        -- Is this digest a manifest anywhere? (The primary key leads with the repository.)
        CREATE INDEX gc_manifests_by_digest ON manifests(digest);

        INSERT INTO gc_blobs (digest, size, last_linked_at)
            SELECT digest, MAX(size), MAX(linked_at) FROM blob_links WHERE true GROUP BY digest
            ON CONFLICT (digest) DO NOTHING;
        INSERT INTO gc_blobs (digest, size, last_linked_at)
            SELECT digest, MAX(size), \(nowMilliseconds) FROM manifests WHERE true GROUP BY digest
            ON CONFLICT (digest) DO UPDATE SET last_linked_at = MAX(last_linked_at, excluded.last_linked_at);

        CREATE TABLE gc_deleted_manifests (
            repository_id INTEGER NOT NULL,
            digest TEXT NOT NULL,
            deleted_at INTEGER NOT NULL,
            PRIMARY KEY (repository_id, digest)
        ) WITHOUT ROWID;

        CREATE TRIGGER gc_blob_links_insert_guard BEFORE INSERT ON blob_links
        WHEN (SELECT state FROM gc_blobs WHERE digest = NEW.digest) = 1
        BEGIN SELECT RAISE(ABORT, 'kura-gc-conflict: blob is being garbage-collected'); END;

        CREATE TRIGGER gc_blob_links_update_guard BEFORE UPDATE ON blob_links
        WHEN (SELECT state FROM gc_blobs WHERE digest = NEW.digest) = 1
        BEGIN SELECT RAISE(ABORT, 'kura-gc-conflict: blob is being garbage-collected'); END;

        CREATE TRIGGER gc_blob_links_inserted AFTER INSERT ON blob_links
        BEGIN
            INSERT INTO gc_blobs (digest, size, last_linked_at) VALUES (NEW.digest, NEW.size, NEW.linked_at)
            ON CONFLICT (digest) DO UPDATE
                SET last_linked_at = MAX(last_linked_at, excluded.last_linked_at), size = excluded.size;
        END;

        CREATE TRIGGER gc_blob_links_updated AFTER UPDATE ON blob_links
        BEGIN
            INSERT INTO gc_blobs (digest, size, last_linked_at) VALUES (NEW.digest, NEW.size, NEW.linked_at)
            ON CONFLICT (digest) DO UPDATE
                SET last_linked_at = MAX(last_linked_at, excluded.last_linked_at), size = excluded.size;
        END;

        CREATE TRIGGER gc_manifests_insert_guard BEFORE INSERT ON manifests
        WHEN (SELECT state FROM gc_blobs WHERE digest = NEW.digest) = 1
        BEGIN SELECT RAISE(ABORT, 'kura-gc-conflict: manifest is being garbage-collected'); END;

        CREATE TRIGGER gc_manifests_inserted AFTER INSERT ON manifests
        BEGIN
            INSERT INTO gc_blobs (digest, size, last_linked_at) VALUES (NEW.digest, NEW.size, \(nowMilliseconds))
            ON CONFLICT (digest) DO UPDATE SET last_linked_at = MAX(last_linked_at, excluded.last_linked_at);
            DELETE FROM gc_deleted_manifests WHERE repository_id = NEW.repository_id AND digest = NEW.digest;
        END;

        CREATE TRIGGER gc_manifest_references_blob_guard BEFORE INSERT ON manifest_references
        WHEN NEW.kind = 'blob' AND (SELECT state FROM gc_blobs WHERE digest = NEW.child_digest) IN (1, 2)
        BEGIN SELECT RAISE(ABORT, 'kura-gc-conflict: a referenced blob was garbage-collected'); END;

        CREATE TRIGGER gc_manifest_references_child_guard BEFORE INSERT ON manifest_references
        WHEN NEW.kind = 'manifest' AND EXISTS (
            SELECT 1 FROM gc_deleted_manifests d
            WHERE d.repository_id = NEW.repository_id AND d.digest = NEW.child_digest)
        BEGIN SELECT RAISE(ABORT, 'kura-gc-conflict: a referenced manifest was garbage-collected'); END;

        CREATE TABLE gc_job_runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            owner TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            dry_run INTEGER NOT NULL,
            summary TEXT,
            error TEXT
        );
        CREATE INDEX gc_job_runs_by_kind ON gc_job_runs(kind, id);

        CREATE TABLE gc_job_locks (
            name TEXT PRIMARY KEY NOT NULL,
            owner TEXT NOT NULL,
            acquired_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """
}
