public import Foundation
import GRDB
public import KuraCore

extension SQLiteMetadataStore: GarbageCollectionStore {
    // MARK: job lock and runs

    public func acquireJobLock(_ name: String, owner: String, ttl: TimeInterval) async throws -> Bool {
        let now = Date().catalogMilliseconds
        let expires = now + Int64(ttl * 1000)
        return try await dbWriter.write { db in
            try db.execute(
                sql: """
                    INSERT INTO gc_job_locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE
                        SET owner = excluded.owner, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
                        WHERE gc_job_locks.expires_at < excluded.acquired_at OR gc_job_locks.owner = excluded.owner
                    """,
                arguments: [name, owner, now, expires])
            return db.changesCount > 0
        }
    }

    public func releaseJobLock(_ name: String, owner: String) async throws {
        try await dbWriter.write { db in
            try db.execute(sql: "DELETE FROM gc_job_locks WHERE name = ? AND owner = ?", arguments: [name, owner])
        }
    }

    public func startJobRun(kind: String, owner: String, dryRun: Bool) async throws -> Int64 {
        let now = Date().catalogMilliseconds
        return try await dbWriter.write { db in
            try db.execute(
                sql: "INSERT INTO gc_job_runs (kind, owner, started_at, dry_run) VALUES (?, ?, ?, ?)",
                arguments: [kind, owner, now, dryRun])
            return db.lastInsertedRowID
        }
    }

    public func finishJobRun(_ id: Int64, summary: String?, error: String?) async throws {
        let now = Date().catalogMilliseconds
        try await dbWriter.write { db in
            try db.execute(
                sql: "UPDATE gc_job_runs SET finished_at = ?, summary = ?, error = ? WHERE id = ?",
                arguments: [now, summary, error, id])
        }
    }

    public func jobRuns(kind: String?, limit: Int) async throws -> [JobRunRecord] {
        try await dbWriter.read { db in
            var sql = "SELECT * FROM gc_job_runs"
            var arguments: StatementArguments = []
            if let kind {
                sql += " WHERE kind = ?"
                arguments += [kind]
            }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [max(0, limit)]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let finished: Int64? = row["finished_at"]
                return JobRunRecord(
                    id: row["id"], kind: row["kind"], owner: row["owner"],
                    startedAt: Date(catalogMilliseconds: row["started_at"]),
                    finishedAt: finished.map { Date(catalogMilliseconds: $0) }, dryRun: row["dry_run"],
                    summary: row["summary"], error: row["error"])
            }
        }
    }

    // MARK: housekeeping

    public func recoverAndPurge(forgetBefore before: Date) async throws {
        let now = Date().catalogMilliseconds
        let cutoff = before.catalogMilliseconds
        try await dbWriter.write { db in
            try db.execute(sql: "UPDATE gc_blobs SET state = 2, collected_at = ? WHERE state = 1", arguments: [now])
            try db.execute(sql: "DELETE FROM gc_blobs WHERE state = 2 AND collected_at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM gc_deleted_manifests WHERE deleted_at < ?", arguments: [cutoff])
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
        try await dbWriter.read { db in
            var arguments: StatementArguments = [afterRowID, createdBefore.catalogMilliseconds]
            if let manifest { arguments += [manifest.repository.value, manifest.digest.description] }
            arguments += [limit]
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT m.rowid AS rid, r.name, m.digest, m.size FROM manifests m
                    JOIN repositories r ON r.id = m.repository_id
                    WHERE m.rowid > ? AND m.created_at < ? \(manifest == nil ? "" : "AND r.name = ? AND m.digest = ?")
                        AND \(ManifestCandidateSQL.condition(reason))
                    ORDER BY m.rowid LIMIT ?
                    """,
                arguments: arguments
            ).map { row in
                ManifestCandidate(
                    rowID: row["rid"], repository: try CatalogValue.repositoryName(row["name"], column: "repositories.name"),
                    digest: try CatalogValue.digest(row["digest"], column: "manifests.digest"), size: row["size"],
                    reason: reason)
            }
        }
    }

    public func deleteManifestCandidate(_ candidate: ManifestCandidate, createdBefore: Date) async throws -> Bool {
        let now = Date().catalogMilliseconds
        return try await write(changingManifestsOf: candidate.repository) { db in
            guard
                let repositoryID = try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT m.repository_id FROM manifests m
                        WHERE m.rowid = ? AND m.digest = ? AND m.created_at < ? AND \(ManifestCandidateSQL.condition(candidate.reason))
                        """,
                    arguments: [candidate.rowID, candidate.digest.description, createdBefore.catalogMilliseconds])
            else { return false }
            try db.execute(
                sql: """
                    INSERT INTO gc_deleted_manifests (repository_id, digest, deleted_at) VALUES (?, ?, ?)
                    ON CONFLICT DO UPDATE SET deleted_at = excluded.deleted_at
                    """,
                arguments: [repositoryID, candidate.digest.description, now])
            // References go by ON DELETE CASCADE; there are no tags.
            try db.execute(sql: "DELETE FROM manifests WHERE rowid = ?", arguments: [candidate.rowID])
            return db.changesCount > 0
        }
    }

    // MARK: blobs

    /// A live digest `b` of `gc_blobs` that is garbage for `:cutoff`: the one definition
    /// used by both the paging query and the re-check in step 1.
    private static let garbageCondition = """
        b.state = 0 AND b.last_linked_at < :cutoff
        AND NOT EXISTS (SELECT 1 FROM manifest_references f WHERE f.child_digest = b.digest)
        AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)
        AND NOT EXISTS (SELECT 1 FROM blob_links l WHERE l.digest = b.digest AND l.linked_at >= :cutoff)
        """

    public func catalogBlobTotals() async throws -> (count: Int, bytes: Int64) {
        try await dbWriter.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM gc_blobs WHERE state = 0")
            return (row?["n"] ?? 0, row?["bytes"] ?? 0)
        }
    }

    public func garbageBlobs(after: Digest?, linkedBefore: Date, limit: Int) async throws -> [CatalogBlob] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT b.digest, b.size FROM gc_blobs b
                    WHERE b.digest > :after AND \(Self.garbageCondition)
                    ORDER BY b.digest LIMIT :limit
                    """,
                arguments: ["after": after?.description ?? "", "cutoff": linkedBefore.catalogMilliseconds, "limit": limit]
            ).map(Self.catalogBlob)
        }
    }

    public func beginCollecting(_ digests: [Digest], linkedBefore: Date) async throws -> [CatalogBlob] {
        let cutoff = linkedBefore.catalogMilliseconds
        return try await dbWriter.write { db in
            var taken: [CatalogBlob] = []
            let check = try db.cachedStatement(
                sql: "SELECT b.digest, b.size FROM gc_blobs b WHERE b.digest = :digest AND \(Self.garbageCondition)")
            for digest in digests {
                guard let row = try Row.fetchOne(check, arguments: ["digest": digest.description, "cutoff": cutoff]) else {
                    continue
                }
                try db.execute(sql: "DELETE FROM blob_links WHERE digest = ?", arguments: [digest.description])
                try db.execute(sql: "UPDATE gc_blobs SET state = 1 WHERE digest = ?", arguments: [digest.description])
                taken.append(try Self.catalogBlob(row))
            }
            return taken
        }
    }

    public func beginCollectingUnlinked(_ objects: [CatalogBlob]) async throws -> [Digest] {
        if objects.isEmpty { return [] }
        return try await dbWriter.write { db in
            var taken: [Digest] = []
            for object in objects {
                let digest = object.digest.description
                switch try Int.fetchOne(db, sql: "SELECT state FROM gc_blobs WHERE digest = ?", arguments: [digest]) {
                case nil:
                    // Never linked: a row in `collecting`, with no link time (the catalog pass
                    // then treats it as garbage if the deletion fails and it goes back to live).
                    try db.execute(
                        sql: "INSERT INTO gc_blobs (digest, size, last_linked_at, state) VALUES (?, ?, 0, 1)",
                        arguments: [digest, object.size])
                case 2?:
                    // Collected, but a writer may have stored it again (a manifest row or a
                    // link) and not revived it yet: then it is not debris.
                    let storedAgain = try Bool.fetchOne(
                        db,
                        sql: """
                            SELECT EXISTS (SELECT 1 FROM manifests WHERE digest = :digest)
                                OR EXISTS (SELECT 1 FROM blob_links WHERE digest = :digest)
                                OR EXISTS (SELECT 1 FROM manifest_references WHERE child_digest = :digest)
                            """,
                        arguments: ["digest": digest]) ?? false
                    if storedAgain { continue }
                    try db.execute(sql: "UPDATE gc_blobs SET state = 1, collected_at = NULL WHERE digest = ?", arguments: [digest])
                default:
                    continue  // live, or being collected by someone else
                }
                taken.append(object.digest)
            }
            return taken
        }
    }

    public func finishCollecting(_ deleted: [Digest], failed: [Digest]) async throws {
        let now = Date().catalogMilliseconds
        try await dbWriter.write { db in
            for digest in deleted {
                try db.execute(
                    sql: "UPDATE gc_blobs SET state = 2, collected_at = ? WHERE digest = ? AND state = 1",
                    arguments: [now, digest.description])
            }
            for digest in failed {
                try db.execute(
                    sql: "UPDATE gc_blobs SET state = 0 WHERE digest = ? AND state = 1", arguments: [digest.description])
            }
        }
    }

    public func collectionState(_ digest: Digest) async throws -> BlobCollectionState? {
        try await dbWriter.read { db in try Self.collectionState(db, digest) }
    }

    static func collectionState(_ db: Database, _ digest: Digest) throws -> BlobCollectionState? {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT state FROM gc_blobs WHERE digest = ?"), arguments: [digest.description])
            .flatMap(BlobCollectionState.init(rawValue:))
    }

    public func reviveCollectedBlob(_ digest: Digest) async throws -> Bool {
        try await dbWriter.write { db in
            try db.execute(
                sql: "UPDATE gc_blobs SET state = 0, collected_at = NULL WHERE digest = ? AND state = 2",
                arguments: [digest.description])
            let state = try Int.fetchOne(db, sql: "SELECT state FROM gc_blobs WHERE digest = ?", arguments: [digest.description])
            return state == 0
        }
    }

    public func isCollectionConflict(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.message?.hasPrefix("kura-gc-conflict") == true
    }

    // MARK: scrub

    public func liveBlobs(after: Digest?, limit: Int) async throws -> [CatalogBlob] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT digest, size FROM gc_blobs WHERE digest > ? AND state = 0 ORDER BY digest LIMIT ?",
                arguments: [after?.description ?? "", limit]
            ).map(Self.catalogBlob)
        }
    }

    public func liveDigests(among digests: [Digest]) async throws -> Set<Digest> {
        if digests.isEmpty { return [] }
        return try await dbWriter.read { db in
            var result = Set<Digest>()
            for start in stride(from: 0, to: digests.count, by: 500) {
                let slice = digests[start..<min(start + 500, digests.count)]
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                let found = try String.fetchAll(
                    db, sql: "SELECT digest FROM gc_blobs WHERE state = 0 AND digest IN (\(marks))",
                    arguments: StatementArguments(slice.map(\.description)))
                for text in found { result.insert(try CatalogValue.digest(text, column: "gc_blobs.digest")) }
            }
            return result
        }
    }

    public func danglingReferences(limit: Int) async throws -> [DanglingReference] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.name, f.manifest_digest, f.child_digest, f.kind FROM manifest_references f
                    JOIN repositories r ON r.id = f.repository_id
                    WHERE (f.kind = 'blob' AND NOT EXISTS (
                            SELECT 1 FROM gc_blobs b WHERE b.digest = f.child_digest AND b.state = 0))
                       OR (f.kind = 'manifest' AND NOT EXISTS (
                            SELECT 1 FROM manifests m WHERE m.repository_id = f.repository_id AND m.digest = f.child_digest))
                    LIMIT ?
                    """,
                arguments: [limit]
            ).map { row in
                DanglingReference(
                    repository: row["name"], manifest: row["manifest_digest"], child: row["child_digest"], kind: row["kind"])
            }
        }
    }

    public func isManifest(_ digest: Digest) async throws -> Bool {
        try await dbWriter.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM manifests WHERE digest = ?)", arguments: [digest.description]) ?? false
        }
    }

    public func forgetLostBlob(_ digest: Digest) async throws -> Bool {
        let now = Date().catalogMilliseconds
        return try await dbWriter.write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM manifests WHERE digest = ?)", arguments: [digest.description]) == true
            {
                return false
            }
            try db.execute(sql: "DELETE FROM blob_links WHERE digest = ?", arguments: [digest.description])
            try db.execute(
                sql: "UPDATE gc_blobs SET state = 2, collected_at = ? WHERE digest = ?", arguments: [now, digest.description])
            return true
        }
    }

    // MARK: uploads

    public func uploadRecords(createdBefore before: Date, limit: Int) async throws -> [UploadRecord] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, repository, created_at FROM uploads WHERE created_at < ? ORDER BY id LIMIT ?",
                arguments: [before.catalogMilliseconds, limit]
            ).map { row in
                UploadRecord(
                    id: row["id"], repository: try CatalogValue.repositoryName(row["repository"], column: "uploads.repository"),
                    createdAt: Date(catalogMilliseconds: row["created_at"]))
            }
        }
    }

    // MARK: helpers

    private static func catalogBlob(_ row: Row) throws -> CatalogBlob {
        CatalogBlob(digest: try CatalogValue.digest(row["digest"], column: "gc_blobs.digest"), size: row["size"])
    }
}
