import Foundation
import GRDB
public import KuraCore

extension SQLiteMetadataStore: UsageStore {
    public func addUsage(_ counts: [UsageBucket: UsageCounts]) async throws {
        guard !counts.isEmpty else { return }
        try await dbWriter.write { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO usage_hourly (hour, namespace, repository, access_key_id, kind, calls, bytes_in, bytes_out)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (hour, namespace, repository, access_key_id, kind) DO UPDATE SET
                        calls = calls + excluded.calls, bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out
                    """)
            for (bucket, count) in counts {
                try upsert.execute(arguments: [
                    bucket.hour.catalogMilliseconds, bucket.namespace, bucket.repository, bucket.accessKeyID, bucket.kind.rawValue,
                    count.calls, count.bytesIn, count.bytesOut,
                ])
            }
        }
    }

    public func usage(_ query: UsageQuery) async throws -> [UsageRecord] {
        let groups: [String]
        switch query.grouping {
        case .namespace: groups = ["namespace"]
        case .repository: groups = ["namespace", "repository"]
        case .key: groups = ["namespace", "access_key_id"]
        }
        var sql = "SELECT \(groups.joined(separator: ", ")), kind, SUM(calls) AS calls, SUM(bytes_in) AS bytes_in, SUM(bytes_out) AS bytes_out"
        sql += " FROM usage_hourly WHERE hour >= ? AND hour < ?"
        var arguments: StatementArguments = [query.from.catalogMilliseconds, query.to.catalogMilliseconds]
        if let namespace = query.namespace {
            sql += " AND namespace = ?"
            arguments += [namespace]
        }
        let grouped = (groups + ["kind"]).joined(separator: ", ")
        sql += " GROUP BY \(grouped) ORDER BY \(grouped)"
        let finalSQL = sql
        let finalArguments = arguments
        return try await dbWriter.read { db in
            try Row.fetchAll(db, sql: finalSQL, arguments: finalArguments).map { row in
                let kindText: String = row["kind"]
                guard let kind = UsageKind(rawValue: kindText) else {
                    throw MetadataStoreError.corruptValue(column: "usage_hourly.kind", value: kindText)
                }
                return UsageRecord(
                    namespace: row["namespace"], repository: row["repository"], accessKeyID: row["access_key_id"], kind: kind,
                    counts: UsageCounts(calls: row["calls"], bytesIn: row["bytes_in"], bytesOut: row["bytes_out"]))
            }
        }
    }

    /// The namespace of a `repositories` row: its name up to the first `/`.
    private static let namespaceOfName = "CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END"

    /// A filter on `repositories r` for the repositories of one namespace (`name` or
    /// `name/…`; `'/' < '0'` bounds the prefix so the name index serves it).
    static let inNamespace = "(r.name = ?1 OR (r.name > ?1 || '/' AND r.name < ?1 || '0'))"

    public func storage(namespace: String?) async throws -> [NamespaceStorage] {
        let filter = namespace == nil ? "1" : Self.inNamespace
        let arguments: StatementArguments = namespace.map { [$0] } ?? []
        return try await dbWriter.read { db in
            let logical = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.namespaceOfName) AS ns, r.name AS repository,
                        (SELECT COALESCE(SUM(size), 0) FROM blob_links WHERE repository_id = r.id)
                        + (SELECT COALESCE(SUM(size), 0) FROM manifests WHERE repository_id = r.id) AS bytes
                    FROM repositories r WHERE \(filter) ORDER BY r.name
                    """,
                arguments: arguments)
            let physical = try Row.fetchAll(
                db,
                sql: """
                    SELECT ns, SUM(size) AS bytes FROM (
                        SELECT \(Self.namespaceOfName) AS ns, b.digest, b.size FROM blob_links b JOIN repositories r ON r.id = b.repository_id
                        WHERE \(filter)
                        UNION
                        SELECT \(Self.namespaceOfName) AS ns, m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repository_id
                        WHERE \(filter)
                    ) GROUP BY ns
                    """,
                arguments: arguments)
            var physicalByNamespace: [String: Int64] = [:]
            for row in physical { physicalByNamespace[row["ns"]] = row["bytes"] }
            var repositories: [String: [RepositoryStorage]] = [:]
            for row in logical {
                repositories[row["ns"], default: []].append(RepositoryStorage(repository: row["repository"], logicalBytes: row["bytes"]))
            }
            return repositories.keys.sorted().map { name in
                NamespaceStorage(namespace: name, physicalBytes: physicalByNamespace[name] ?? 0, repositories: repositories[name] ?? [])
            }
        }
    }

    public func globalPhysicalBytes() async throws -> Int64 {
        try await dbWriter.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT COALESCE(SUM(size), 0) FROM (SELECT digest, size FROM blob_links UNION SELECT digest, size FROM manifests)")
                ?? 0
        }
    }

    public func openUploadCount() async throws -> Int64 {
        try await dbWriter.read { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM uploads") ?? 0 }
    }
}

extension SQLiteMetadataStore: QuotaStore {
    public func setQuota(namespace: String, maxBytes: Int64?) async throws {
        try await dbWriter.write { db in
            if let maxBytes {
                try db.execute(
                    sql: "INSERT INTO namespace_quotas (namespace, max_bytes) VALUES (?, ?) ON CONFLICT (namespace) DO UPDATE SET max_bytes = excluded.max_bytes",
                    arguments: [namespace, maxBytes])
            } else {
                try db.execute(sql: "DELETE FROM namespace_quotas WHERE namespace = ?", arguments: [namespace])
            }
        }
    }

    public func quota(namespace: String) async throws -> Int64? {
        try await dbWriter.read { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT max_bytes FROM namespace_quotas WHERE namespace = ?"), arguments: [namespace])
        }
    }

    public func physicalBytes(namespace: String, including candidate: (digest: Digest, size: Int64)?) async throws -> Int64 {
        try await dbWriter.read { db in try Self.physicalBytes(db, namespace: namespace, including: candidate) }
    }

    public func linkBlobWithinQuota(_ digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        let now = Date().catalogMilliseconds
        try await dbWriter.write { db in
            try Self.enforceQuota(db, adding: (digest, size), in: repository)
            try Self.linkBlob(db, digest, size: size, in: repository, now: now)
        }
    }

    public func linkUploadedBlobWithinQuota(
        _ digest: Digest, size: Int64, in repository: RepositoryName, endingUpload upload: String
    ) async throws -> BlobCollectionState? {
        let now = Date().catalogMilliseconds
        return try await dbWriter.write { db in
            try Self.enforceQuota(db, adding: (digest, size), in: repository)
            try Self.linkBlob(db, digest, size: size, in: repository, now: now)
            _ = try Self.deleteUpload(db, upload)
            return try Self.collectionState(db, digest)
        }
    }

    public func putManifestWithinQuota(
        _ manifest: ManifestRecord, references: [ManifestReference], in repository: RepositoryName, tag: Tag?
    ) async throws {
        let now = Date().catalogMilliseconds
        let annotations = try CatalogValue.annotationsJSON(manifest.annotations)
        try await write(changingManifestsOf: repository) { db in
            try Self.enforceQuota(db, adding: (manifest.digest, manifest.size), in: repository)
            try Self.putManifest(db, manifest, annotations: annotations, references: references, in: repository, tag: tag, now: now)
        }
    }

    /// Throws ``QuotaExceeded`` when `candidate` would take the namespace of `repository`
    /// over its quota. Run inside the write transaction that then stores the candidate, so
    /// no other write comes between the count and the row.
    private static func enforceQuota(_ db: Database, adding candidate: (digest: Digest, size: Int64), in repository: RepositoryName) throws {
        let namespace = String(repository.firstComponent)
        guard
            let limit = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT max_bytes FROM namespace_quotas WHERE namespace = ?"), arguments: [namespace])
        else { return }
        let projected = try physicalBytes(db, namespace: namespace, including: candidate)
        guard projected > limit else { return }
        let stored = try physicalBytes(db, namespace: namespace, including: nil)
        // Content the namespace already holds adds nothing, so it is never refused.
        guard projected > stored else { return }
        throw QuotaExceeded(namespace: namespace, storedBytes: stored, projectedBytes: projected, maxBytes: limit)
    }

    private static func physicalBytes(_ db: Database, namespace: String, including candidate: (digest: Digest, size: Int64)?) throws -> Int64 {
        // UNION drops duplicate (digest, size) rows, so content stored twice counts once.
        let stored = """
            SELECT b.digest, b.size FROM blob_links b JOIN repositories r ON r.id = b.repository_id WHERE \(inNamespace)
            UNION
            SELECT m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE \(inNamespace)
            """
        let total = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM (\(stored))", arguments: [namespace]) ?? 0
        guard let candidate else { return total }
        // A candidate already stored adds nothing. Its size is a client's claim, so it is
        // added in Swift with overflow checked (saturating), never in SQLite's SUM, which
        // fails on overflow.
        let held = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM (\(stored)) WHERE digest = ?2 AND size = ?3)",
            arguments: [namespace, candidate.digest.description, candidate.size]) ?? false
        if held { return total }
        let (sum, overflow) = total.addingReportingOverflow(candidate.size)
        return overflow ? .max : sum
    }
}
