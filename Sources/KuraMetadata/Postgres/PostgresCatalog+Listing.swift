import Foundation
public import KuraCore
import PostgresNIO

/// The console's listings, each one query over just the rows of one page (see
/// ``SQLiteMetadataStore`` for the same queries on SQLite).
extension PostgresCatalog {
    public func repositories(inNamespace namespace: String, containing: String, after: String?, limit: Int) async throws -> [RepositoryName] {
        guard limit > 0 else { return [] }
        return try await rows(
            """
            SELECT r.name FROM repositories r
            WHERE (r.name = \(namespace) OR (r.name > \(namespace) || '/' AND r.name < \(namespace) || '0'))
                AND r.name > \(after ?? "") AND strpos(r.name, \(containing)) > 0
            ORDER BY r.name LIMIT \(limit)
            """
        ).decoded { row in try CatalogValue.repositoryName(try row.decode(String.self), column: "repositories.name") }
    }

    public func repositoryCounts(inNamespaces namespaces: [String]) async throws -> [String: Int] {
        guard !namespaces.isEmpty else { return [:] }
        // One range count per namespace on the name index.
        let pairs = try await rows(
            """
            SELECT n.ns, (SELECT COUNT(*) FROM repositories r
                WHERE r.name = n.ns OR (r.name > n.ns || '/' AND r.name < n.ns || '0'))::BIGINT
            FROM unnest(\(Array(Set(namespaces)))::TEXT[]) AS n(ns)
            """
        ).decoded { row in try row.decode((String, Int64).self) }
        var counts: [String: Int] = [:]
        for (namespace, count) in pairs where count > 0 { counts[namespace] = Int(count) }
        return counts
    }

    public func tagCounts(of repositories: [RepositoryName], cappedAt cap: Int) async throws -> [RepositoryName: Int] {
        guard !repositories.isEmpty else { return [:] }
        let counts = try Self.valuesByRepository(
            try await rows(
                """
                SELECT r.name, (SELECT COUNT(*) FROM (SELECT 1 FROM tags t WHERE t.repository_id = r.id LIMIT \(max(0, cap))) capped)::BIGINT
                FROM repositories r WHERE r.name = ANY(\(repositories.map(\.value)))
                """))
        return counts.filter { $0.value > 0 }.mapValues { Int($0) }
    }

    public func logicalBytes(of repositories: [RepositoryName]) async throws -> [RepositoryName: Int64] {
        guard !repositories.isEmpty else { return [:] }
        return try Self.valuesByRepository(
            try await rows(
                """
                SELECT r.name, ((SELECT COALESCE(SUM(size), 0) FROM blob_links WHERE repository_id = r.id)
                    + (SELECT COALESCE(SUM(size), 0) FROM manifests WHERE repository_id = r.id))::BIGINT
                FROM repositories r WHERE r.name = ANY(\(repositories.map(\.value)))
                """))
    }

    public func shortDescriptions(of repositories: [String]) async throws -> [String: String] {
        guard !repositories.isEmpty else { return [:] }
        let pairs = try await rows(
            "SELECT repository, short FROM repository_descriptions WHERE short != '' AND repository = ANY(\(repositories))"
        ).decoded { row in try row.decode((String, String).self) }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// `(name, bigint)` rows by repository.
    private static func valuesByRepository(_ rows: [PostgresRow]) throws -> [RepositoryName: Int64] {
        var values: [RepositoryName: Int64] = [:]
        for row in rows {
            let (name, value) = try row.decode((String, Int64).self)
            values[try CatalogValue.repositoryName(name, column: "repositories.name")] = value
        }
        return values
    }
}
