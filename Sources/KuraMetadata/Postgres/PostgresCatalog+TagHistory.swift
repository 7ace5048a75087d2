public import Foundation
public import KuraCore
import PostgresNIO

/// Tag pages by name or push time, and when repositories were last pushed and pulled, for
/// the console's tables (see ``SQLiteMetadataStore`` for the same queries on SQLite).
extension PostgresCatalog {
    public func tagRecords(in repository: RepositoryName, order: TagOrder, after: TagPosition?, limit: Int) async throws -> [TagRecord] {
        let name = repository.value, count = max(0, limit)
        let query: PostgresQuery
        switch (order, after) {
        case (.name, nil):
            query = """
                SELECT t.name, t.manifest_digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
                WHERE r.name = \(name) ORDER BY t.name LIMIT \(count)
                """
        case (.name, let after?):
            query = """
                SELECT t.name, t.manifest_digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
                WHERE r.name = \(name) AND t.name > \(after.tag) ORDER BY t.name LIMIT \(count)
                """
        case (.newest, nil):
            query = """
                SELECT t.name, t.manifest_digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
                WHERE r.name = \(name) ORDER BY t.updated_at DESC, t.name LIMIT \(count)
                """
        case (.newest, let after?):
            let millis = after.updatedAt.catalogMilliseconds
            query = """
                SELECT t.name, t.manifest_digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
                WHERE r.name = \(name) AND (t.updated_at < \(millis) OR (t.updated_at = \(millis) AND t.name > \(after.tag)))
                ORDER BY t.updated_at DESC, t.name LIMIT \(count)
                """
        }
        return try await rows(query).decoded { row in
            let (tag, digest, updated) = try row.decode((String, String, Int64).self)
            return TagRecord(
                tag: try CatalogValue.tag(tag, column: "tags.name"), digest: try CatalogValue.digest(digest, column: "tags.manifest_digest"),
                updatedAt: Date(catalogMilliseconds: updated))
        }
    }

    public func lastPushes(of repositories: [RepositoryName]) async throws -> [RepositoryName: Date] {
        guard !repositories.isEmpty else { return [:] }
        return try Self.dates(
            try await rows(
                """
                SELECT r.name, MAX(t.updated_at) FROM repositories r JOIN tags t ON t.repository_id = r.id
                WHERE r.name = ANY(\(repositories.map(\.value))) GROUP BY r.name
                """))
    }

    public func lastPulls(of repositories: [RepositoryName]) async throws -> [RepositoryName: Date] {
        guard !repositories.isEmpty else { return [:] }
        return try Self.dates(
            try await rows(
                """
                SELECT repository, MAX(hour) FROM usage_hourly
                WHERE kind = \(UsageKind.manifestPull.rawValue) AND repository = ANY(\(repositories.map(\.value))) GROUP BY repository
                """))
    }

    private static func dates(_ rows: [PostgresRow]) throws -> [RepositoryName: Date] {
        var dates: [RepositoryName: Date] = [:]
        for row in rows {
            let (name, millis) = try row.decode((String, Int64).self)
            dates[try RepositoryName(parsing: name)] = Date(catalogMilliseconds: millis)
        }
        return dates
    }
}

extension PostgresSchema {
    /// Indexes for the console's "newest first" tag pages and "last pulled" column.
    static let tagHistory = """
        CREATE INDEX tags_by_push ON tags(repository_id, updated_at, name);
        CREATE INDEX usage_hourly_by_repository ON usage_hourly(repository, kind, hour);
        """
}
