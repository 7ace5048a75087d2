import Foundation
public import KuraCore
import Logging
import PostgresNIO

extension PostgresCatalog: MetadataStore {
    // MARK: repositories

    public func createRepository(_ name: RepositoryName) async throws {
        let now = Date().catalogMilliseconds
        _ = try await transaction { connection in try await Self.ensureRepository(connection, name, now: now, self.logger) }
    }

    public func repositoryExists(_ name: RepositoryName) async throws -> Bool {
        try await !rows("SELECT 1 FROM repositories WHERE name = \(name.value)").isEmpty
    }

    public func repositories(after: String?, limit: Int) async throws -> [RepositoryName] {
        try await repositoryNames(after: after, limit: limit, condition: "true")
    }

    public func listedRepositories(after: String?, limit: Int) async throws -> [RepositoryName] {
        try await repositoryNames(after: after, limit: limit, condition: "EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)")
    }

    private func repositoryNames(after: String?, limit: Int, condition: String) async throws -> [RepositoryName] {
        guard limit > 0 else { return [] }
        return try await rows(
            "SELECT r.name FROM repositories r WHERE r.name > \(after ?? "") AND \(unescaped: condition) ORDER BY r.name LIMIT \(limit)"
        ).decoded { row in try CatalogValue.repositoryName(try row.decode(String.self), column: "repositories.name") }
    }

    @discardableResult
    public func deleteRepository(_ name: RepositoryName) async throws -> Bool {
        defer { announceManifestsLocally(in: name) }
        return try await transaction { connection in
            try await connection.query("DELETE FROM uploads WHERE repository = \(name.value)", logger: self.logger)
            return try await !connection.rows("DELETE FROM repositories WHERE name = \(name.value) RETURNING id", self.logger).isEmpty
        }
    }

    // MARK: blob links

    public func linkBlob(_ digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        let now = Date().catalogMilliseconds
        try await transaction { connection in try await Self.linkBlob(connection, digest, size: size, in: repository, now: now, self.logger) }
    }

    static func linkBlob(
        _ connection: PostgresConnection, _ digest: Digest, size: Int64, in repository: RepositoryName, now: Int64, _ logger: Logger
    ) async throws {
        let id = try await ensureRepository(connection, repository, now: now, logger)
        try await connection.query(
            """
            INSERT INTO blob_links (repository_id, digest, size, linked_at) VALUES (\(id), \(digest.description), \(size), \(now))
            ON CONFLICT (repository_id, digest) DO UPDATE SET size = EXCLUDED.size, linked_at = EXCLUDED.linked_at
            """, logger: logger)
    }

    public func blobLink(_ digest: Digest, in repository: RepositoryName) async throws -> BlobLink? {
        try await rows(
            """
            SELECT l.size, l.linked_at FROM blob_links l JOIN repositories r ON r.id = l.repository_id
            WHERE r.name = \(repository.value) AND l.digest = \(digest.description)
            """
        ).firstDecoded { row in
            let (size, linkedAt) = try row.decode((Int64, Int64).self)
            return BlobLink(digest: digest, size: size, linkedAt: Date(catalogMilliseconds: linkedAt))
        }
    }

    @discardableResult
    public func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool {
        try await !rows(
            """
            DELETE FROM blob_links WHERE repository_id = (SELECT id FROM repositories WHERE name = \(repository.value))
                AND digest = \(digest.description) RETURNING 1
            """
        ).isEmpty
    }

    public func repositoriesLinking(_ digest: Digest, limit: Int) async throws -> [RepositoryName] {
        guard limit > 0 else { return [] }
        return try await rows(
            """
            SELECT r.name FROM blob_links l JOIN repositories r ON r.id = l.repository_id
            WHERE l.digest = \(digest.description) ORDER BY r.name LIMIT \(limit)
            """
        ).decoded { row in try CatalogValue.repositoryName(try row.decode(String.self), column: "repositories.name") }
    }

    // MARK: manifests and tags

    public func putManifest(
        _ manifest: ManifestRecord, references: [ManifestReference], in repository: RepositoryName, tag: Tag?
    ) async throws {
        let now = Date().catalogMilliseconds
        let annotations = try CatalogValue.annotationsJSON(manifest.annotations)
        defer { announceManifestsLocally(in: repository) }
        try await transaction { connection in
            try await Self.putManifest(
                connection, manifest, annotations: annotations, references: references, in: repository, tag: tag, now: now, self.logger)
        }
    }

    static func putManifest(
        _ connection: PostgresConnection, _ manifest: ManifestRecord, annotations: String, references: [ManifestReference],
        in repository: RepositoryName, tag: Tag?, now: Int64, _ logger: Logger
    ) async throws {
        let id = try await ensureRepository(connection, repository, now: now, logger)
        let digest = manifest.digest.description
        let inserted = try await connection.rows(
            """
            INSERT INTO manifests (repository_id, digest, media_type, size, artifact_type, subject, annotations, created_at)
            VALUES (\(id), \(digest), \(manifest.mediaType), \(manifest.size), \(manifest.artifactType), \(manifest.subject?.description),
                \(annotations), \(manifest.createdAt.catalogMilliseconds))
            ON CONFLICT (repository_id, digest) DO NOTHING RETURNING 1
            """, logger)
        // A digest fixes a manifest's content, so an existing row already has the same
        // references; only a new row needs them.
        if !inserted.isEmpty {
            for reference in references {
                try await connection.query(
                    """
                    INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
                    VALUES (\(id), \(digest), \(reference.digest.description), \(reference.kind.rawValue)) ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
        }
        if let tag {
            try await connection.query(
                """
                INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (\(id), \(tag.value), \(digest), \(now))
                ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = EXCLUDED.manifest_digest, updated_at = EXCLUDED.updated_at
                """, logger: logger)
        }
    }

    public func manifest(tagged tag: Tag, in repository: RepositoryName) async throws -> ManifestRecord? {
        try await rows(ManifestLookup<ByTag>(repository: repository.value, key: tag.value)).firstDecoded(Self.manifest)
    }

    public func manifest(_ digest: Digest, in repository: RepositoryName) async throws -> ManifestRecord? {
        try await rows(ManifestLookup<ByDigest>(repository: repository.value, key: digest.description)).firstDecoded(Self.manifest)
    }

    public func references(of digest: Digest, in repository: RepositoryName) async throws -> [ManifestReference] {
        try await rows(
            """
            SELECT f.child_digest, f.kind FROM manifest_references f JOIN repositories r ON r.id = f.repository_id
            WHERE r.name = \(repository.value) AND f.manifest_digest = \(digest.description) ORDER BY f.child_digest, f.kind
            """
        ).decoded { row in
            let (child, kind) = try row.decode((String, String).self)
            return ManifestReference(
                digest: try CatalogValue.digest(child, column: "manifest_references.child_digest"), kind: try CatalogValue.referenceKind(kind))
        }
    }

    @discardableResult
    public func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool {
        defer { announceManifestsLocally(in: repository) }
        return try await !rows(
            """
            DELETE FROM manifests WHERE repository_id = (SELECT id FROM repositories WHERE name = \(repository.value))
                AND digest = \(digest.description) RETURNING 1
            """
        ).isEmpty
    }

    public func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws -> [ManifestRecord] {
        try await rows(
            """
            SELECT \(unescaped: Self.manifestColumns) FROM manifests m JOIN repositories r ON r.id = m.repository_id
            WHERE r.name = \(repository.value) AND m.subject = \(subject.description)
                AND (\(artifactType)::TEXT IS NULL OR m.artifact_type = \(artifactType))
            ORDER BY m.digest
            """
        ).decoded(Self.manifest)
    }

    public func resolveTag(_ tag: Tag, in repository: RepositoryName) async throws -> Digest? {
        try await rows(
            """
            SELECT t.manifest_digest FROM tags t JOIN repositories r ON r.id = t.repository_id
            WHERE r.name = \(repository.value) AND t.name = \(tag.value)
            """
        ).firstDecoded { row in try CatalogValue.digest(try row.decode(String.self), column: "tags.manifest_digest") }
    }

    public func tags(in repository: RepositoryName, after: String?, limit: Int) async throws -> [Tag] {
        guard limit > 0 else { return [] }
        return try await rows(
            """
            SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
            WHERE r.name = \(repository.value) AND t.name > \(after ?? "") ORDER BY t.name LIMIT \(limit)
            """
        ).decoded { row in try CatalogValue.tag(try row.decode(String.self), column: "tags.name") }
    }

    public func tags(pointingTo digest: Digest, in repository: RepositoryName) async throws -> [Tag] {
        try await rows(
            """
            SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
            WHERE r.name = \(repository.value) AND t.manifest_digest = \(digest.description) ORDER BY t.name
            """
        ).decoded { row in try CatalogValue.tag(try row.decode(String.self), column: "tags.name") }
    }

    @discardableResult
    public func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Digest? {
        defer { announceManifestsLocally(in: repository) }
        return try await rows(
            """
            DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = \(repository.value)) AND name = \(tag.value)
            RETURNING manifest_digest
            """
        ).firstDecoded { row in try CatalogValue.digest(try row.decode(String.self), column: "tags.manifest_digest") }
    }

    // MARK: upload sessions

    public func createUpload(_ id: String, in repository: RepositoryName) async throws {
        _ = try await rows("INSERT INTO uploads (id, repository, created_at) VALUES (\(id), \(repository.value), \(Date().catalogMilliseconds))")
    }

    public func upload(_ id: String) async throws -> UploadRecord? {
        try await rows("SELECT repository, created_at FROM uploads WHERE id = \(id)").firstDecoded { row in
            let (repository, created) = try row.decode((String, Int64).self)
            return UploadRecord(
                id: id, repository: try CatalogValue.repositoryName(repository, column: "uploads.repository"),
                createdAt: Date(catalogMilliseconds: created))
        }
    }

    @discardableResult
    public func deleteUpload(_ id: String) async throws -> Bool {
        try await !rows(Self.deleteUploadQuery(id)).isEmpty
    }

    static func deleteUploadQuery(_ id: String) -> PostgresQuery {
        "DELETE FROM uploads WHERE id = \(id) RETURNING 1"
    }

    // MARK: helpers

    static let manifestColumns = "m.digest, m.media_type, m.size, m.artifact_type, m.subject, m.annotations, m.created_at"

    static func manifest(_ row: PostgresRow) throws -> ManifestRecord {
        let (digest, mediaType, size, artifactType, subject, annotations, created) = try row.decode(
            (String, String, Int64, String?, String?, String, Int64).self)
        return ManifestRecord(
            digest: try CatalogValue.digest(digest, column: "manifests.digest"), mediaType: mediaType, size: size,
            artifactType: artifactType,
            subject: try subject.map { text throws(MetadataStoreError) in try CatalogValue.digest(text, column: "manifests.subject") },
            annotations: try CatalogValue.annotations(annotations), createdAt: Date(catalogMilliseconds: created))
    }

    /// The repository's id, inserting the repository first if it is new.
    static func ensureRepository(_ connection: PostgresConnection, _ name: RepositoryName, now: Int64, _ logger: Logger) async throws -> Int64 {
        if let row = try await connection.rows("SELECT id FROM repositories WHERE name = \(name.value)", logger).first {
            return try row.decode(Int64.self)
        }
        if let row = try await connection.rows(
            "INSERT INTO repositories (name, created_at) VALUES (\(name.value), \(now)) ON CONFLICT (name) DO NOTHING RETURNING id", logger
        ).first {
            return try row.decode(Int64.self)
        }
        // Another transaction inserted it meanwhile (and committed: ON CONFLICT waited for it).
        guard let row = try await connection.rows("SELECT id FROM repositories WHERE name = \(name.value)", logger).first else {
            throw MetadataStoreError.corruptValue(column: "repositories.name", value: name.value)
        }
        return try row.decode(Int64.self)
    }
}
