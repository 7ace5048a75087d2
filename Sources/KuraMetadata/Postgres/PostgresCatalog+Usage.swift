import Foundation
public import KuraCore
import Logging
import PostgresNIO

extension PostgresCatalog: UsageStore {
    /// One upsert per bucket, in one transaction (nodes flushing at once add up: `calls =
    /// calls + EXCLUDED.calls` is applied to the row as committed).
    public func addUsage(_ counts: [UsageBucket: UsageCounts]) async throws {
        guard !counts.isEmpty else { return }
        // A fixed order of rows: two nodes flushing the same buckets lock them in the same
        // order, so they wait for each other instead of deadlocking.
        let ordered = counts.sorted { a, b in
            (a.key.hour, a.key.namespace, a.key.repository, a.key.accessKeyID, a.key.kind.rawValue)
                < (b.key.hour, b.key.namespace, b.key.repository, b.key.accessKeyID, b.key.kind.rawValue)
        }
        try await transaction { connection in
            for (bucket, count) in ordered {
                try await connection.query(
                    """
                    INSERT INTO usage_hourly AS u (hour, namespace, repository, access_key_id, kind, calls, bytes_in, bytes_out)
                    VALUES (\(bucket.hour.catalogMilliseconds), \(bucket.namespace), \(bucket.repository), \(bucket.accessKeyID),
                        \(bucket.kind.rawValue), \(count.calls), \(count.bytesIn), \(count.bytesOut))
                    ON CONFLICT (hour, namespace, repository, access_key_id, kind) DO UPDATE SET
                        calls = u.calls + EXCLUDED.calls, bytes_in = u.bytes_in + EXCLUDED.bytes_in, bytes_out = u.bytes_out + EXCLUDED.bytes_out
                    """, logger: self.logger)
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
        let grouped = (groups + ["kind"]).joined(separator: ", ")
        let repository = query.grouping == .repository ? "repository" : "NULL::TEXT"
        let key = query.grouping == .key ? "access_key_id" : "NULL::TEXT"
        return try await rows(
            """
            SELECT namespace, \(unescaped: repository), \(unescaped: key), kind,
                SUM(calls)::BIGINT, SUM(bytes_in)::BIGINT, SUM(bytes_out)::BIGINT
            FROM usage_hourly WHERE hour >= \(query.from.catalogMilliseconds) AND hour < \(query.to.catalogMilliseconds)
                AND (\(query.namespace)::TEXT IS NULL OR namespace = \(query.namespace))
            GROUP BY \(unescaped: grouped) ORDER BY \(unescaped: grouped)
            """
        ).decoded { row in
            let (namespace, repository, key, kindText, calls, bytesIn, bytesOut) = try row.decode(
                (String, String?, String?, String, Int64, Int64, Int64).self)
            guard let kind = UsageKind(rawValue: kindText) else {
                throw MetadataStoreError.corruptValue(column: "usage_hourly.kind", value: kindText)
            }
            return UsageRecord(
                namespace: namespace, repository: repository, accessKeyID: key, kind: kind,
                counts: UsageCounts(calls: calls, bytesIn: bytesIn, bytesOut: bytesOut))
        }
    }

    /// The repositories of one namespace (`name` or `name/…`), on `repositories r`, with
    /// the namespace bound as `$1`.
    static let inNamespace = "(r.name = $1 OR (r.name > $1 || '/' AND r.name < $1 || '0'))"

    public func storage(namespace: String?) async throws -> [NamespaceStorage] {
        let filter = namespace == nil ? "($1::TEXT IS NULL)" : Self.inNamespace
        var bindings = PostgresBindings()
        bindings.append(namespace)
        let logical = try await rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT split_part(r.name, '/', 1) AS ns, r.name,
                        ((SELECT COALESCE(SUM(size), 0) FROM blob_links WHERE repository_id = r.id)
                        + (SELECT COALESCE(SUM(size), 0) FROM manifests WHERE repository_id = r.id))::BIGINT
                    FROM repositories r WHERE \(filter) ORDER BY r.name
                    """, binds: bindings))
        let physical = try await rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT ns, SUM(size)::BIGINT FROM (
                        SELECT split_part(r.name, '/', 1) AS ns, b.digest, b.size FROM blob_links b JOIN repositories r ON r.id = b.repository_id
                        WHERE \(filter)
                        UNION
                        SELECT split_part(r.name, '/', 1) AS ns, m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repository_id
                        WHERE \(filter)
                    ) stored GROUP BY ns
                    """, binds: bindings))
        var physicalByNamespace: [String: Int64] = [:]
        for row in physical {
            let (ns, bytes) = try row.decode((String, Int64).self)
            physicalByNamespace[ns] = bytes
        }
        var repositories: [String: [RepositoryStorage]] = [:]
        for row in logical {
            let (ns, name, bytes) = try row.decode((String, String, Int64).self)
            repositories[ns, default: []].append(RepositoryStorage(repository: name, logicalBytes: bytes))
        }
        return repositories.keys.sorted().map { name in
            NamespaceStorage(namespace: name, physicalBytes: physicalByNamespace[name] ?? 0, repositories: repositories[name] ?? [])
        }
    }

    public func globalPhysicalBytes() async throws -> Int64 {
        try await rows(
            "SELECT COALESCE(SUM(size), 0)::BIGINT FROM (SELECT digest, size FROM blob_links UNION SELECT digest, size FROM manifests) stored"
        ).first?.decode(Int64.self) ?? 0
    }

    public func openUploadCount() async throws -> Int64 {
        try await rows("SELECT COUNT(*) FROM uploads").first?.decode(Int64.self) ?? 0
    }
}

extension PostgresCatalog: QuotaStore {
    public func setQuota(namespace: String, maxBytes: Int64?) async throws {
        if let maxBytes {
            _ = try await rows(
                """
                INSERT INTO namespace_quotas (namespace, max_bytes) VALUES (\(namespace), \(maxBytes))
                ON CONFLICT (namespace) DO UPDATE SET max_bytes = EXCLUDED.max_bytes
                """)
        } else {
            _ = try await rows("DELETE FROM namespace_quotas WHERE namespace = \(namespace)")
        }
    }

    public func quota(namespace: String) async throws -> Int64? {
        try await rows("SELECT max_bytes FROM namespace_quotas WHERE namespace = \(namespace)").first?.decode(Int64.self)
    }

    public func physicalBytes(namespace: String, including candidate: (digest: Digest, size: Int64)?) async throws -> Int64 {
        try await client.withConnection { connection in
            try await Self.physicalBytes(connection, namespace: namespace, including: candidate, self.logger)
        }
    }

    public func linkBlobWithinQuota(_ digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        let now = Date().catalogMilliseconds
        try await transaction { connection in
            try await Self.enforceQuota(connection, adding: (digest, size), in: repository, self.logger)
            try await Self.linkBlob(connection, digest, size: size, in: repository, now: now, self.logger)
        }
    }

    public func linkUploadedBlobWithinQuota(
        _ digest: Digest, size: Int64, in repository: RepositoryName, endingUpload upload: String
    ) async throws -> BlobCollectionState? {
        let now = Date().catalogMilliseconds
        return try await transaction { connection in
            try await Self.enforceQuota(connection, adding: (digest, size), in: repository, self.logger)
            try await Self.linkBlob(connection, digest, size: size, in: repository, now: now, self.logger)
            _ = try await connection.rows(Self.deleteUploadQuery(upload), self.logger)
            return try Self.collectionState(in: try await connection.rows(Self.collectionStateQuery(digest), self.logger))
        }
    }

    public func putManifestWithinQuota(
        _ manifest: ManifestRecord, references: [ManifestReference], in repository: RepositoryName, tag: Tag?
    ) async throws {
        let now = Date().catalogMilliseconds
        let annotations = try CatalogValue.annotationsJSON(manifest.annotations)
        defer { announceManifestsLocally(in: repository) }
        try await transaction { connection in
            try await Self.enforceQuota(connection, adding: (manifest.digest, manifest.size), in: repository, self.logger)
            try await Self.putManifest(
                connection, manifest, annotations: annotations, references: references, in: repository, tag: tag, now: now, self.logger)
        }
    }

    /// Throws ``QuotaExceeded`` when `candidate` would take the namespace over its quota.
    /// The quota row is locked (`FOR UPDATE`) before counting, so writers of one namespace
    /// with a quota, on any node, count and write one after another.
    private static func enforceQuota(
        _ connection: PostgresConnection, adding candidate: (digest: Digest, size: Int64), in repository: RepositoryName, _ logger: Logger
    ) async throws {
        let namespace = String(repository.firstComponent)
        guard
            let limit = try await connection.rows(
                "SELECT max_bytes FROM namespace_quotas WHERE namespace = \(namespace) FOR UPDATE", logger
            ).first?.decode(Int64.self)
        else { return }
        let projected = try await physicalBytes(connection, namespace: namespace, including: candidate, logger)
        guard projected > limit else { return }
        let stored = try await physicalBytes(connection, namespace: namespace, including: nil, logger)
        guard projected > stored else { return }
        throw QuotaExceeded(namespace: namespace, storedBytes: stored, projectedBytes: projected, maxBytes: limit)
    }

    private static func physicalBytes(
        _ connection: PostgresConnection, namespace: String, including candidate: (digest: Digest, size: Int64)?, _ logger: Logger
    ) async throws -> Int64 {
        let stored = """
            SELECT b.digest, b.size FROM blob_links b JOIN repositories r ON r.id = b.repository_id WHERE \(inNamespace)
            UNION
            SELECT m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE \(inNamespace)
            """
        var bindings = PostgresBindings()
        bindings.append(namespace)
        let total = try await connection.rows(
            PostgresQuery(unsafeSQL: "SELECT COALESCE(SUM(size), 0)::BIGINT FROM (\(stored)) stored", binds: bindings), logger
        ).first?.decode(Int64.self) ?? 0
        guard let candidate else { return total }
        // A candidate already stored adds nothing; its size is a client's claim, added in
        // Swift with overflow checked (saturating).
        bindings.append(candidate.digest.description)
        bindings.append(candidate.size)
        let held = try await !connection.rows(
            PostgresQuery(unsafeSQL: "SELECT 1 FROM (\(stored)) stored WHERE digest = $2 AND size = $3 LIMIT 1", binds: bindings), logger
        ).isEmpty
        if held { return total }
        let (sum, overflow) = total.addingReportingOverflow(candidate.size)
        return overflow ? .max : sum
    }
}
