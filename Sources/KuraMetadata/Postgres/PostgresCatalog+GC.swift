public import Foundation
public import KuraCore
import Logging
import PostgresNIO

extension PostgresCatalog: GarbageCollectionStore {
    // MARK: job lock and runs

    public func acquireJobLock(_ name: String, owner: String, ttl: TimeInterval) async throws -> Bool {
        let now = Date().catalogMilliseconds
        let expires = now + Int64(ttl * 1000)
        return try await !rows(
            """
            INSERT INTO gc_job_locks AS l (name, owner, acquired_at, expires_at) VALUES (\(name), \(owner), \(now), \(expires))
            ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
                WHERE l.expires_at < EXCLUDED.acquired_at OR l.owner = EXCLUDED.owner
            RETURNING 1
            """
        ).isEmpty
    }

    public func releaseJobLock(_ name: String, owner: String) async throws {
        _ = try await rows("DELETE FROM gc_job_locks WHERE name = \(name) AND owner = \(owner)")
    }

    public func startJobRun(kind: String, owner: String, dryRun: Bool) async throws -> Int64 {
        let now = Date().catalogMilliseconds
        guard
            let row = try await rows(
                "INSERT INTO gc_job_runs (kind, owner, started_at, dry_run) VALUES (\(kind), \(owner), \(now), \(dryRun)) RETURNING id"
            ).first
        else { throw MetadataStoreError.corruptValue(column: "gc_job_runs.id", value: "") }
        return try row.decode(Int64.self)
    }

    public func finishJobRun(_ id: Int64, summary: String?, error: String?) async throws {
        _ = try await rows(
            "UPDATE gc_job_runs SET finished_at = \(Date().catalogMilliseconds), summary = \(summary), error = \(error) WHERE id = \(id)")
    }

    public func jobRuns(kind: String?, limit: Int) async throws -> [JobRunRecord] {
        try await rows(
            """
            SELECT id, kind, owner, started_at, finished_at, dry_run, summary, error FROM gc_job_runs
            WHERE \(kind)::TEXT IS NULL OR kind = \(kind) ORDER BY id DESC LIMIT \(max(0, limit))
            """
        ).decoded { row in
            let (id, kind, owner, started, finished, dryRun, summary, error) = try row.decode(
                (Int64, String, String, Int64, Int64?, Bool, String?, String?).self)
            return JobRunRecord(
                id: id, kind: kind, owner: owner, startedAt: Date(catalogMilliseconds: started),
                finishedAt: finished.map { Date(catalogMilliseconds: $0) }, dryRun: dryRun, summary: summary, error: error)
        }
    }

    // MARK: housekeeping

    public func recoverAndPurge(forgetBefore before: Date) async throws {
        let now = Date().catalogMilliseconds
        let cutoff = before.catalogMilliseconds
        try await transaction { connection in
            try await connection.query("UPDATE gc_blobs SET state = 2, collected_at = \(now) WHERE state = 1", logger: self.logger)
            try await connection.query("DELETE FROM gc_blobs WHERE state = 2 AND collected_at < \(cutoff)", logger: self.logger)
            try await connection.query("DELETE FROM gc_deleted_manifests WHERE deleted_at < \(cutoff)", logger: self.logger)
        }
    }

    // MARK: manifests

    public func untaggedManifests(afterRowID: Int64, createdBefore: Date, limit: Int) async throws -> [ManifestCandidate] {
        try await manifestCandidates(.untagged, afterRowID: afterRowID, createdBefore: createdBefore, limit: limit)
    }

    public func orphanedReferrers(afterRowID: Int64, createdBefore: Date, limit: Int) async throws -> [ManifestCandidate] {
        try await manifestCandidates(.orphanedReferrer, afterRowID: afterRowID, createdBefore: createdBefore, limit: limit)
    }

    public func untaggedManifest(_ digest: Digest, in repository: RepositoryName) async throws -> ManifestCandidate? {
        try await manifestCandidates(.untagged, afterRowID: 0, createdBefore: .distantFuture, limit: 1, only: (repository, digest)).first
    }

    private func manifestCandidates(
        _ reason: ManifestCandidate.Reason, afterRowID: Int64, createdBefore: Date, limit: Int,
        only manifest: (repository: RepositoryName, digest: Digest)? = nil
    ) async throws -> [ManifestCandidate] {
        try await rows(
            """
            SELECT m.row_id, r.name, m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repository_id
            WHERE m.row_id > \(afterRowID) AND m.created_at < \(createdBefore.catalogMilliseconds)
                AND (\(manifest?.repository.value)::TEXT IS NULL OR (r.name = \(manifest?.repository.value) AND m.digest = \(manifest?.digest.description)))
                AND \(unescaped: ManifestCandidateSQL.condition(reason))
            ORDER BY m.row_id LIMIT \(limit)
            """
        ).decoded { row in
            let (rowID, name, digest, size) = try row.decode((Int64, String, String, Int64).self)
            return ManifestCandidate(
                rowID: rowID, repository: try CatalogValue.repositoryName(name, column: "repositories.name"),
                digest: try CatalogValue.digest(digest, column: "manifests.digest"), size: size, reason: reason)
        }
    }

    public func deleteManifestCandidate(_ candidate: ManifestCandidate, createdBefore: Date) async throws -> Bool {
        let now = Date().catalogMilliseconds
        defer { announceManifestsLocally(in: candidate.repository) }
        return try await transaction { connection in
            // Lock the row first, then re-check in a statement of its own, which (READ
            // COMMITTED) sees whatever a writer holding the row committed meanwhile.
            guard
                try await !connection.rows("SELECT 1 FROM manifests WHERE row_id = \(candidate.rowID) FOR UPDATE", self.logger).isEmpty,
                let row = try await connection.rows(
                    """
                    SELECT m.repository_id FROM manifests m
                    WHERE m.row_id = \(candidate.rowID) AND m.digest = \(candidate.digest.description)
                        AND m.created_at < \(createdBefore.catalogMilliseconds) AND \(unescaped: ManifestCandidateSQL.condition(candidate.reason))
                    """, self.logger
                ).first
            else { return false }
            let repositoryID = try row.decode(Int64.self)
            try await connection.query(
                """
                INSERT INTO gc_deleted_manifests (repository_id, digest, deleted_at) VALUES (\(repositoryID), \(candidate.digest.description), \(now))
                ON CONFLICT (repository_id, digest) DO UPDATE SET deleted_at = EXCLUDED.deleted_at
                """, logger: self.logger)
            return try await !connection.rows("DELETE FROM manifests WHERE row_id = \(candidate.rowID) RETURNING 1", self.logger).isEmpty
        }
    }

    // MARK: blobs

    /// A live digest `b` of `gc_blobs` that is garbage for the cutoff (bound twice: `$1`
    /// must be the cutoff in every statement using it).
    private static func garbageCondition(_ cutoff: String) -> String {
        """
        b.state = 0 AND b.last_linked_at < \(cutoff)
        AND NOT EXISTS (SELECT 1 FROM manifest_references f WHERE f.child_digest = b.digest)
        AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)
        AND NOT EXISTS (SELECT 1 FROM blob_links l WHERE l.digest = b.digest AND l.linked_at >= \(cutoff))
        """
    }

    public func catalogBlobTotals() async throws -> (count: Int, bytes: Int64) {
        guard let row = try await rows("SELECT COUNT(*), COALESCE(SUM(size), 0)::BIGINT FROM gc_blobs WHERE state = 0").first else {
            return (0, 0)
        }
        let (count, bytes) = try row.decode((Int64, Int64).self)
        return (Int(count), bytes)
    }

    public func garbageBlobs(after: Digest?, linkedBefore: Date, limit: Int) async throws -> [CatalogBlob] {
        let cutoff = linkedBefore.catalogMilliseconds
        return try await rows(
            """
            SELECT b.digest, b.size FROM gc_blobs b
            WHERE \(unescaped: Self.garbageCondition(String(cutoff))) AND b.digest > \(after?.description ?? "")
            ORDER BY b.digest LIMIT \(limit)
            """
        ).decoded(Self.catalogBlob)
    }

    public func beginCollecting(_ digests: [Digest], linkedBefore: Date) async throws -> [CatalogBlob] {
        let cutoff = linkedBefore.catalogMilliseconds
        return try await transaction { connection in
            var taken: [CatalogBlob] = []
            for digest in digests {
                // Lock, then re-check (see the schema): a writer that linked or referred to
                // the digest holds the row until it commits, and is then seen here.
                guard try await !connection.rows("SELECT 1 FROM gc_blobs WHERE digest = \(digest.description) FOR UPDATE", self.logger).isEmpty,
                    let row = try await connection.rows(
                        """
                        SELECT b.digest, b.size FROM gc_blobs b
                        WHERE b.digest = \(digest.description) AND \(unescaped: Self.garbageCondition(String(cutoff)))
                        """, self.logger
                    ).first
                else { continue }
                try await connection.query("DELETE FROM blob_links WHERE digest = \(digest.description)", logger: self.logger)
                try await connection.query("UPDATE gc_blobs SET state = 1 WHERE digest = \(digest.description)", logger: self.logger)
                taken.append(try Self.catalogBlob(row))
            }
            return taken
        }
    }

    public func beginCollectingUnlinked(_ objects: [CatalogBlob]) async throws -> [Digest] {
        if objects.isEmpty { return [] }
        return try await transaction { connection in
            var taken: [Digest] = []
            for object in objects {
                let digest = object.digest.description
                // A row appears for a never-linked object, or a collected one goes back to
                // `collecting`; a live or collecting one is left alone, and so is a collected
                // one that a writer stored again (a manifest row or a link) and has not
                // revived yet. Locking the row first waits for such a writer's transaction
                // (its trigger upserted the row), and the next statement's snapshot sees it.
                let existing = try await connection.rows(
                    "SELECT state FROM gc_blobs WHERE digest = \(digest) FOR UPDATE", self.logger
                ).firstDecoded { Int(try $0.decode(Int16.self)) }
                let changed: [PostgresRow]
                switch existing {
                case nil:
                    changed = try await connection.rows(
                        """
                        INSERT INTO gc_blobs (digest, size, last_linked_at, state) VALUES (\(digest), \(object.size), 0, 1)
                        ON CONFLICT (digest) DO NOTHING RETURNING 1
                        """, self.logger)
                case 2?:
                    changed = try await connection.rows(
                        """
                        UPDATE gc_blobs SET state = 1, collected_at = NULL
                        WHERE digest = \(digest) AND state = 2
                            AND NOT EXISTS (SELECT 1 FROM manifests WHERE digest = \(digest))
                            AND NOT EXISTS (SELECT 1 FROM blob_links WHERE digest = \(digest))
                            AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE child_digest = \(digest))
                        RETURNING 1
                        """, self.logger)
                default:
                    changed = []
                }
                if !changed.isEmpty { taken.append(object.digest) }
            }
            return taken
        }
    }

    public func finishCollecting(_ deleted: [Digest], failed: [Digest]) async throws {
        let now = Date().catalogMilliseconds
        try await transaction { connection in
            try await connection.query(
                "UPDATE gc_blobs SET state = 2, collected_at = \(now) WHERE digest = ANY(\(deleted.map(\.description))) AND state = 1",
                logger: self.logger)
            try await connection.query(
                "UPDATE gc_blobs SET state = 0 WHERE digest = ANY(\(failed.map(\.description))) AND state = 1", logger: self.logger)
        }
    }

    public func collectionState(_ digest: Digest) async throws -> BlobCollectionState? {
        try Self.collectionState(in: try await rows(Self.collectionStateQuery(digest)))
    }

    static func collectionStateQuery(_ digest: Digest) -> PostgresQuery {
        "SELECT state FROM gc_blobs WHERE digest = \(digest.description)"
    }

    static func collectionState(in rows: [PostgresRow]) throws -> BlobCollectionState? {
        try rows.firstDecoded { BlobCollectionState(rawValue: Int(try $0.decode(Int16.self))) } ?? nil
    }

    public func reviveCollectedBlob(_ digest: Digest) async throws -> Bool {
        try await transaction { connection in
            try await connection.query(
                "UPDATE gc_blobs SET state = 0, collected_at = NULL WHERE digest = \(digest.description) AND state = 2", logger: self.logger)
            let state = try await connection.rows("SELECT state FROM gc_blobs WHERE digest = \(digest.description)", self.logger).first
            return try state?.decode(Int16.self) == 0
        }
    }

    public func isCollectionConflict(_ error: any Error) -> Bool {
        Self.sqlState(error) == "KU001"
    }

    // MARK: scrub

    public func liveBlobs(after: Digest?, limit: Int) async throws -> [CatalogBlob] {
        try await rows(
            "SELECT digest, size FROM gc_blobs WHERE digest > \(after?.description ?? "") AND state = 0 ORDER BY digest LIMIT \(limit)"
        ).decoded(Self.catalogBlob)
    }

    public func liveDigests(among digests: [Digest]) async throws -> Set<Digest> {
        if digests.isEmpty { return [] }
        var result = Set<Digest>()
        for row in try await rows("SELECT digest FROM gc_blobs WHERE state = 0 AND digest = ANY(\(digests.map(\.description)))") {
            result.insert(try CatalogValue.digest(try row.decode(String.self), column: "gc_blobs.digest"))
        }
        return result
    }

    public func danglingReferences(limit: Int) async throws -> [DanglingReference] {
        try await rows(
            """
            SELECT r.name, f.manifest_digest, f.child_digest, f.kind FROM manifest_references f
            JOIN repositories r ON r.id = f.repository_id
            WHERE (f.kind = 'blob' AND NOT EXISTS (SELECT 1 FROM gc_blobs b WHERE b.digest = f.child_digest AND b.state = 0))
               OR (f.kind = 'manifest' AND NOT EXISTS (
                    SELECT 1 FROM manifests m WHERE m.repository_id = f.repository_id AND m.digest = f.child_digest))
            LIMIT \(limit)
            """
        ).decoded { row in
            let (repository, manifest, child, kind) = try row.decode((String, String, String, String).self)
            return DanglingReference(repository: repository, manifest: manifest, child: child, kind: kind)
        }
    }

    public func isManifest(_ digest: Digest) async throws -> Bool {
        try await !rows("SELECT 1 FROM manifests WHERE digest = \(digest.description) LIMIT 1").isEmpty
    }

    public func forgetLostBlob(_ digest: Digest) async throws -> Bool {
        let now = Date().catalogMilliseconds
        return try await transaction { connection in
            if try await !connection.rows("SELECT 1 FROM manifests WHERE digest = \(digest.description) LIMIT 1", self.logger).isEmpty {
                return false
            }
            try await connection.query("DELETE FROM blob_links WHERE digest = \(digest.description)", logger: self.logger)
            try await connection.query(
                "UPDATE gc_blobs SET state = 2, collected_at = \(now) WHERE digest = \(digest.description)", logger: self.logger)
            return true
        }
    }

    // MARK: dry runs

    /// A copy of the catalog's GC tables in a schema of its own (`kura_scratch_…`), opened
    /// through a small pool whose `search_path` is that schema; dropped when the copy goes.
    public func scratchCopy() async throws -> any GarbageCollectionStore {
        let schema = "kura_scratch_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let tables = ["repositories", "manifests", "manifest_references", "tags", "blob_links", "uploads", "gc_blobs", "gc_deleted_manifests"]
        try await client.withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"), logger: logger)
            // Migrations 1 and 2 (the tables GC reads) in the new schema, their triggers
            // calling the functions of `public`; then the rows copied with the triggers
            // off, so the copy is the catalog as it is.
            try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \(schema), public"), logger: logger)
            do {
                for migration in PostgresSchema.migrations.prefix(2) {
                    for statement in PostgresSchema.statements(migration.sql) where !statement.hasPrefix("CREATE FUNCTION") {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                }
                for table in tables {
                    try await connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(schema).\(table) DISABLE TRIGGER USER"), logger: logger)
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "INSERT INTO \(schema).\(table) SELECT * FROM public.\(table)"), logger: logger)
                    try await connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(schema).\(table) ENABLE TRIGGER USER"), logger: logger)
                }
            } catch {
                _ = try? await connection.query("RESET search_path", logger: logger)
                _ = try? await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
                throw error
            }
            try await connection.query("RESET search_path", logger: logger)
        }
        return PostgresCatalog(
            configuration: scratchConfiguration(schema), logger: logger, scratchSchema: schema, parent: self)
    }

    // MARK: uploads

    public func uploadRecords(createdBefore before: Date, limit: Int) async throws -> [UploadRecord] {
        try await rows(
            "SELECT id, repository, created_at FROM uploads WHERE created_at < \(before.catalogMilliseconds) ORDER BY id LIMIT \(limit)"
        ).decoded { row in
            let (id, repository, created) = try row.decode((String, String, Int64).self)
            return UploadRecord(
                id: id, repository: try CatalogValue.repositoryName(repository, column: "uploads.repository"),
                createdAt: Date(catalogMilliseconds: created))
        }
    }

    // MARK: helpers

    private static func catalogBlob(_ row: PostgresRow) throws -> CatalogBlob {
        let (digest, size) = try row.decode((String, Int64).self)
        return CatalogBlob(digest: try CatalogValue.digest(digest, column: "gc_blobs.digest"), size: size)
    }
}
