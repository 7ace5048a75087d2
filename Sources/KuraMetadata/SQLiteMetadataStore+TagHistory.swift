public import Foundation
import GRDB
public import KuraCore

/// Tag pages by name or push time, and when repositories were last pushed and pulled, for
/// the console's tables.
extension SQLiteMetadataStore {
    public func tagRecords(in repository: RepositoryName, order: TagOrder, after: TagPosition?, limit: Int) async throws -> [TagRecord] {
        var sql = "SELECT t.name, t.manifest_digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ?"
        var arguments: StatementArguments = [repository.value]
        switch (order, after) {
        case (.name, let after?):
            sql += " AND t.name > ?"
            arguments += [after.tag]
        case (.newest, let after?):
            sql += " AND (t.updated_at < ? OR (t.updated_at = ? AND t.name > ?))"
            arguments += [after.updatedAt.catalogMilliseconds, after.updatedAt.catalogMilliseconds, after.tag]
        case (_, nil): break
        }
        sql += order == .name ? " ORDER BY t.name" : " ORDER BY t.updated_at DESC, t.name"
        sql += " LIMIT ?"
        arguments += [max(0, limit)]
        return try await dbWriter.read { [sql, arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                TagRecord(
                    tag: try CatalogValue.tag(row["name"], column: "tags.name"),
                    digest: try CatalogValue.digest(row["manifest_digest"], column: "tags.manifest_digest"),
                    updatedAt: Date(catalogMilliseconds: row["updated_at"]))
            }
        }
    }

    public func lastPushes(of repositories: [RepositoryName]) async throws -> [RepositoryName: Date] {
        try await latestTimes(of: repositories) { marks in
            ("""
                SELECT r.name, MAX(t.updated_at) FROM repositories r JOIN tags t ON t.repository_id = r.id
                WHERE r.name IN (\(marks)) GROUP BY r.name
                """, [])
        }
    }

    public func lastPulls(of repositories: [RepositoryName]) async throws -> [RepositoryName: Date] {
        try await latestTimes(of: repositories) { marks in
            ("""
                SELECT repository, MAX(hour) FROM usage_hourly WHERE kind = ? AND repository IN (\(marks)) GROUP BY repository
                """, [UsageKind.manifestPull.rawValue])
        }
    }

    /// Runs a `SELECT name, time … IN (marks)` built by `query` (with its leading arguments)
    /// for `repositories`, as a dictionary.
    private func latestTimes(
        of repositories: [RepositoryName], _ query: (String) -> (String, [String])
    ) async throws -> [RepositoryName: Date] {
        guard !repositories.isEmpty else { return [:] }
        let (sql, leading) = query(Array(repeating: "?", count: repositories.count).joined(separator: ", "))
        let arguments = StatementArguments(leading + repositories.map(\.value))
        // Rows are not Sendable: names and times leave the database's queue as plain values.
        let pairs = try await dbWriter.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row -> (String, Int64) in (row[0], row[1]) }
        }
        var dates: [RepositoryName: Date] = [:]
        for (name, millis) in pairs { dates[try RepositoryName(parsing: name)] = Date(catalogMilliseconds: millis) }
        return dates
    }
}

/// Indexes for the console's "newest first" tag pages and "last pulled" column.
enum SQLiteTagHistorySchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("tag-history-v1") { db in
            try db.execute(sql: "CREATE INDEX tags_by_push ON tags(repository_id, updated_at, name)")
            try db.execute(sql: "CREATE INDEX usage_hourly_by_repository ON usage_hourly(repository, kind, hour)")
        }
    }
}
