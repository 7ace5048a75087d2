import Foundation
import GRDB
public import KuraCore

/// The embedded catalog: a ``MetadataStore`` in one SQLite database, through GRDB.
///
/// Every method is one GRDB transaction run with GRDB's async API, so the SQLite work
/// happens on GRDB's own dispatch queues and never blocks Swift's cooperative pool.
public final class SQLiteMetadataStore: MetadataStore {
    /// Internal so that the catalog's other stores (access, jobs) share the database.
    let dbWriter: any DatabaseWriter
    /// Announces, in this process, changes to what nodes cache (see ``CatalogChangeFeed``).
    public let changes = CatalogChangeFeed(live: true)

    /// Closes the database (its connections and file handles). A server calls it when it
    /// stops; the store is unusable afterwards.
    public func close() throws {
        try dbWriter.close()
    }

    /// Opens (creating if needed) the database file at `path` in WAL mode, with foreign
    /// keys on, and migrates it to the current schema.
    ///
    /// Runs the migration synchronously on the calling thread; call it at startup.
    public convenience init(path: String) throws {
        try self.init(writer: DatabasePool(path: path, configuration: Self.configuration()))
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> SQLiteMetadataStore {
        try SQLiteMetadataStore(writer: DatabaseQueue(configuration: configuration()))
    }

    /// A file this store deletes when it goes away (a dry run's scratch copy).
    let temporaryFile: String?

    private init(writer: any DatabaseWriter) throws {
        try SQLiteSchema.migrator.migrate(writer)
        dbWriter = writer
        temporaryFile = nil
    }

    /// Over a database that already holds the current schema, deleted with the store.
    init(temporary writer: DatabaseQueue, path: String) {
        dbWriter = writer
        temporaryFile = path
    }

    deinit {
        guard let temporaryFile else { return }
        try? (dbWriter as? DatabaseQueue)?.close()
        for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporaryFile + suffix) }
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.label = "kura.metadata"
        config.foreignKeysEnabled = true
        // Another process (a CLI, a backup) may hold the write lock for a moment.
        config.busyMode = .timeout(5)
        return config
    }

    // MARK: repositories

    public func createRepository(_ name: RepositoryName) async throws {
        let now = Date().catalogMilliseconds
        try await dbWriter.write { db in _ = try Self.ensureRepository(db, name, now: now) }
    }

    public func repositoryExists(_ name: RepositoryName) async throws -> Bool {
        try await dbWriter.read { db in try Self.repositoryID(db, name) != nil }
    }

    public func repositories(after: String?, limit: Int) async throws -> [RepositoryName] {
        try await repositoryNames(after: after, limit: limit, condition: "1")
    }

    public func listedRepositories(after: String?, limit: Int) async throws -> [RepositoryName] {
        try await repositoryNames(after: after, limit: limit, condition: "EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)")
    }

    private func repositoryNames(after: String?, limit: Int, condition: String) async throws -> [RepositoryName] {
        guard limit > 0 else { return [] }
        return try await dbWriter.read { db in
            let names = try String.fetchAll(
                db, sql: "SELECT r.name FROM repositories r WHERE r.name > ? AND \(condition) ORDER BY r.name LIMIT ?",
                arguments: [after ?? "", limit])
            return try names.map { name throws(MetadataStoreError) in
                try CatalogValue.repositoryName(name, column: "repositories.name")
            }
        }
    }

    @discardableResult
    public func deleteRepository(_ name: RepositoryName) async throws -> Bool {
        try await write(changingManifestsOf: name) { db in
            try db.execute(sql: "DELETE FROM uploads WHERE repository = ?", arguments: [name.value])
            // Links, manifests, references and tags go by ON DELETE CASCADE.
            try db.execute(sql: "DELETE FROM repositories WHERE name = ?", arguments: [name.value])
            // `changesCount` counts only the rows the statement itself deleted, not cascades.
            return db.changesCount > 0
        }
    }

    // MARK: blob links

    public func linkBlob(_ digest: Digest, size: Int64, in repository: RepositoryName) async throws {
        let now = Date().catalogMilliseconds
        try await dbWriter.write { db in try Self.linkBlob(db, digest, size: size, in: repository, now: now) }
    }

    /// The write of ``linkBlob(_:size:in:)``, inside a caller's transaction.
    static func linkBlob(_ db: Database, _ digest: Digest, size: Int64, in repository: RepositoryName, now: Int64) throws {
        let id = try ensureRepository(db, repository, now: now)
        try db.cachedStatement(
            sql: """
                INSERT INTO blob_links (repository_id, digest, size, linked_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (repository_id, digest) DO UPDATE SET size = excluded.size, linked_at = excluded.linked_at
                """
        ).execute(arguments: [id, digest.description, size, now])
    }

    public func blobLink(_ digest: Digest, in repository: RepositoryName) async throws -> BlobLink? {
        try await dbWriter.read { db in
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                    SELECT l.size, l.linked_at FROM blob_links l JOIN repositories r ON r.id = l.repository_id
                    WHERE r.name = ? AND l.digest = ?
                    """),
                arguments: [repository.value, digest.description])
            return row.map { BlobLink(digest: digest, size: $0["size"], linkedAt: Date(catalogMilliseconds: $0["linked_at"])) }
        }
    }

    @discardableResult
    public func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool {
        try await dbWriter.write { db in
            try db.execute(
                sql: """
                    DELETE FROM blob_links
                    WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?
                    """,
                arguments: [repository.value, digest.description])
            return db.changesCount > 0
        }
    }

    public func repositoriesLinking(_ digest: Digest, limit: Int) async throws -> [RepositoryName] {
        guard limit > 0 else { return [] }
        return try await dbWriter.read { db in
            let names = try String.fetchAll(
                db,
                sql: """
                    SELECT r.name FROM blob_links l JOIN repositories r ON r.id = l.repository_id
                    WHERE l.digest = ? ORDER BY r.name LIMIT ?
                    """,
                arguments: [digest.description, limit])
            return try names.map { name throws(MetadataStoreError) in
                try CatalogValue.repositoryName(name, column: "repositories.name")
            }
        }
    }

    // MARK: manifests and tags

    public func putManifest(
        _ manifest: ManifestRecord, references: [ManifestReference], in repository: RepositoryName, tag: Tag?
    ) async throws {
        let now = Date().catalogMilliseconds
        let annotations = try CatalogValue.annotationsJSON(manifest.annotations)
        try await write(changingManifestsOf: repository) { db in
            try Self.putManifest(db, manifest, annotations: annotations, references: references, in: repository, tag: tag, now: now)
        }
    }

    /// The write of ``putManifest(_:references:in:tag:)``, inside a caller's transaction.
    static func putManifest(
        _ db: Database, _ manifest: ManifestRecord, annotations: String, references: [ManifestReference], in repository: RepositoryName,
        tag: Tag?, now: Int64
    ) throws {
        let id = try ensureRepository(db, repository, now: now)
        let digest = manifest.digest.description
        try db.execute(
            sql: """
                INSERT INTO manifests
                    (repository_id, digest, media_type, size, artifact_type, subject, annotations, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (repository_id, digest) DO NOTHING
                """,
            arguments: [
                id, digest, manifest.mediaType, manifest.size, manifest.artifactType,
                manifest.subject?.description, annotations, manifest.createdAt.catalogMilliseconds,
            ])
        // A digest fixes a manifest's content, so an existing row already has the same
        // references; only a new row needs them.
        if db.changesCount > 0 {
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, kind)
                    VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """)
            for reference in references {
                try insert.execute(arguments: [id, digest, reference.digest.description, reference.kind.rawValue])
            }
        }
        if let tag {
            try db.execute(
                sql: """
                    INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (repository_id, name)
                    DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at
                    """,
                arguments: [id, tag.value, digest, now])
        }
    }

    public func manifest(tagged tag: Tag, in repository: RepositoryName) async throws -> ManifestRecord? {
        try await dbWriter.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                    SELECT \(Self.manifestColumns) FROM tags t
                    JOIN repositories r ON r.id = t.repository_id
                    JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
                    WHERE r.name = ? AND t.name = ?
                    """),
                arguments: [repository.value, tag.value]
            ).map(CatalogValue.manifest)
        }
    }

    public func manifest(_ digest: Digest, in repository: RepositoryName) async throws -> ManifestRecord? {
        try await dbWriter.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                    SELECT \(Self.manifestColumns) FROM manifests m JOIN repositories r ON r.id = m.repository_id
                    WHERE r.name = ? AND m.digest = ?
                    """),
                arguments: [repository.value, digest.description]
            ).map(CatalogValue.manifest)
        }
    }

    public func references(of digest: Digest, in repository: RepositoryName) async throws -> [ManifestReference] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT f.child_digest, f.kind FROM manifest_references f JOIN repositories r ON r.id = f.repository_id
                    WHERE r.name = ? AND f.manifest_digest = ? ORDER BY f.child_digest, f.kind
                    """,
                arguments: [repository.value, digest.description]
            ).map { row in
                ManifestReference(
                    digest: try CatalogValue.digest(row["child_digest"], column: "manifest_references.child_digest"),
                    kind: try CatalogValue.referenceKind(row["kind"]))
            }
        }
    }

    @discardableResult
    public func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool {
        try await write(changingManifestsOf: repository) { db in
            // References and tags go by ON DELETE CASCADE.
            try db.execute(
                sql: """
                    DELETE FROM manifests
                    WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?
                    """,
                arguments: [repository.value, digest.description])
            return db.changesCount > 0
        }
    }

    public func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws
        -> [ManifestRecord]
    {
        try await dbWriter.read { db in
            var sql = """
                SELECT \(Self.manifestColumns) FROM manifests m JOIN repositories r ON r.id = m.repository_id
                WHERE r.name = ? AND m.subject = ?
                """
            var arguments: StatementArguments = [repository.value, subject.description]
            if let artifactType {
                sql += " AND m.artifact_type = ?"
                arguments += [artifactType]
            }
            sql += " ORDER BY m.digest"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(CatalogValue.manifest)
        }
    }

    public func resolveTag(_ tag: Tag, in repository: RepositoryName) async throws -> Digest? {
        try await dbWriter.read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT t.manifest_digest FROM tags t JOIN repositories r ON r.id = t.repository_id
                    WHERE r.name = ? AND t.name = ?
                    """,
                arguments: [repository.value, tag.value]
            ).map { text throws(MetadataStoreError) in try CatalogValue.digest(text, column: "tags.manifest_digest") }
        }
    }

    public func tags(in repository: RepositoryName, after: String?, limit: Int) async throws -> [Tag] {
        guard limit > 0 else { return [] }
        return try await dbWriter.read { db in
            var sql = "SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ?"
            var arguments: StatementArguments = [repository.value]
            if let after {
                sql += " AND t.name > ?"
                arguments += [after]
            }
            sql += " ORDER BY t.name LIMIT ?"
            arguments += [limit]
            return try String.fetchAll(db, sql: sql, arguments: arguments).map { name throws(MetadataStoreError) in
                try CatalogValue.tag(name, column: "tags.name")
            }
        }
    }

    public func tags(pointingTo digest: Digest, in repository: RepositoryName) async throws -> [Tag] {
        try await dbWriter.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id
                    WHERE r.name = ? AND t.manifest_digest = ? ORDER BY t.name
                    """,
                arguments: [repository.value, digest.description]
            ).map { name throws(MetadataStoreError) in try CatalogValue.tag(name, column: "tags.name") }
        }
    }

    @discardableResult
    public func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Digest? {
        try await write(changingManifestsOf: repository) { db in
            try String.fetchOne(
                db,
                sql: """
                    DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?
                    RETURNING manifest_digest
                    """,
                arguments: [repository.value, tag.value]
            ).map { try CatalogValue.digest($0, column: "tags.manifest_digest") }
        }
    }

    // MARK: upload sessions

    /// Records an upload session. Throws if `id` is already in use.
    public func createUpload(_ id: String, in repository: RepositoryName) async throws {
        let now = Date().catalogMilliseconds
        try await dbWriter.write { db in
            try db.cachedStatement(sql: "INSERT INTO uploads (id, repository, created_at) VALUES (?, ?, ?)")
                .execute(arguments: [id, repository.value, now])
        }
    }

    public func upload(_ id: String) async throws -> UploadRecord? {
        try await dbWriter.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT repository, created_at FROM uploads WHERE id = ?"), arguments: [id])
                .map { row in
                    UploadRecord(
                        id: id,
                        repository: try CatalogValue.repositoryName(row["repository"], column: "uploads.repository"),
                        createdAt: Date(catalogMilliseconds: row["created_at"]))
                }
        }
    }

    @discardableResult
    public func deleteUpload(_ id: String) async throws -> Bool {
        try await dbWriter.write { db in try Self.deleteUpload(db, id) }
    }

    static func deleteUpload(_ db: Database, _ id: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM uploads WHERE id = ?").execute(arguments: [id])
        return db.changesCount > 0
    }

    // MARK: helpers

    /// The columns ``CatalogValue/manifest(_:)`` decodes, from `manifests m`.
    static let manifestColumns =
        "m.digest, m.media_type, m.size, m.artifact_type, m.subject, m.annotations, m.created_at"

    private static func repositoryID(_ db: Database, _ name: RepositoryName) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM repositories WHERE name = ?"), arguments: [name.value])
    }

    /// The repository's id, inserting the repository first if it is new.
    private static func ensureRepository(_ db: Database, _ name: RepositoryName, now: Int64) throws -> Int64 {
        if let id = try repositoryID(db, name) { return id }
        try db.execute(
            sql: "INSERT INTO repositories (name, created_at) VALUES (?, ?)", arguments: [name.value, now])
        return db.lastInsertedRowID
    }
}
