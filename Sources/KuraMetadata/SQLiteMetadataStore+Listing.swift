import Foundation
import GRDB
public import KuraCore

/// The console's listings, each one query over just the rows of one page (see
/// ``PostgresCatalog`` for the same queries on PostgreSQL): a namespace's repositories, their
/// tag counts, logical bytes and short descriptions, and repository counts per namespace.
extension SQLiteMetadataStore {
    public func repositories(inNamespace namespace: String, containing: String, after: String?, limit: Int) async throws -> [RepositoryName] {
        guard limit > 0 else { return [] }
        let names = try await dbWriter.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT r.name FROM repositories r WHERE \(Self.inNamespace) AND r.name > ?2 AND instr(r.name, ?3) > 0
                    ORDER BY r.name LIMIT ?4
                    """,
                arguments: [namespace, after ?? "", containing, limit])
        }
        return try names.map { name throws(MetadataStoreError) in try CatalogValue.repositoryName(name, column: "repositories.name") }
    }

    public func repositoryCounts(inNamespaces namespaces: [String]) async throws -> [String: Int] {
        guard !namespaces.isEmpty else { return [:] }
        // One range count per namespace on the name index, in one read transaction.
        return try await dbWriter.read { db in
            let count = try db.cachedStatement(sql: "SELECT COUNT(*) FROM repositories r WHERE \(Self.inNamespace)")
            var counts: [String: Int] = [:]
            for namespace in Set(namespaces) {
                let found = try Int.fetchOne(count, arguments: [namespace]) ?? 0
                if found > 0 { counts[namespace] = found }
            }
            return counts
        }
    }

    public func tagCounts(of repositories: [RepositoryName], cappedAt cap: Int) async throws -> [RepositoryName: Int] {
        try await valuesByRepository(
            repositories,
            sql: { marks in
                """
                SELECT r.name, (SELECT COUNT(*) FROM (SELECT 1 FROM tags t WHERE t.repository_id = r.id LIMIT ?)) AS n
                FROM repositories r WHERE r.name IN (\(marks))
                """
            }, leading: [max(0, cap)]
        ).filter { $0.value > 0 }.mapValues { Int($0) }
    }

    public func logicalBytes(of repositories: [RepositoryName]) async throws -> [RepositoryName: Int64] {
        try await valuesByRepository(
            repositories,
            sql: { marks in
                """
                SELECT r.name, (SELECT COALESCE(SUM(size), 0) FROM blob_links WHERE repository_id = r.id)
                    + (SELECT COALESCE(SUM(size), 0) FROM manifests WHERE repository_id = r.id)
                FROM repositories r WHERE r.name IN (\(marks))
                """
            }, leading: [])
    }

    public func shortDescriptions(of repositories: [String]) async throws -> [String: String] {
        guard !repositories.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: repositories.count).joined(separator: ", ")
        let pairs = try await dbWriter.read { db in
            try Row.fetchAll(
                db, sql: "SELECT repository, short FROM repository_descriptions WHERE short != '' AND repository IN (\(marks))",
                arguments: StatementArguments(repositories)
            ).map { row -> (String, String) in (row[0], row[1]) }
        }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// Runs `SELECT name, integer … IN (marks)` for `repositories`, with `leading` arguments
    /// before the names.
    private func valuesByRepository(
        _ repositories: [RepositoryName], sql: (String) -> String, leading: [Int]
    ) async throws -> [RepositoryName: Int64] {
        guard !repositories.isEmpty else { return [:] }
        let statement = sql(Array(repeating: "?", count: repositories.count).joined(separator: ", "))
        var arguments = StatementArguments(leading)
        arguments += StatementArguments(repositories.map(\.value))
        // Rows are not Sendable: names and values leave the database's queue as plain values.
        let pairs = try await dbWriter.read { [arguments] db in
            try Row.fetchAll(db, sql: statement, arguments: arguments).map { row -> (String, Int64) in (row[0], row[1]) }
        }
        var values: [RepositoryName: Int64] = [:]
        for (name, value) in pairs { values[try CatalogValue.repositoryName(name, column: "repositories.name")] = value }
        return values
    }
}
