import PostgresNIO

/// The two reads behind every manifest GET that the node's cache does not answer (a tag or
/// a digest to its manifest), as prepared statements: each connection parses and plans them
/// once, and a lookup then sends only its two values (no parse, no plan, no description).
extension PostgresCatalog {
    /// Which column of which table a ``ManifestLookup`` finds the manifest by.
    protocol ManifestLookupKind: Sendable {
        /// The statement, `$1` the repository's name and `$2` the tag or digest.
        static var sql: String { get }
    }

    enum ByTag: ManifestLookupKind {
        static let sql = """
            SELECT \(PostgresCatalog.manifestColumns) FROM tags t
            JOIN repositories r ON r.id = t.repository_id
            JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
            WHERE r.name = $1 AND t.name = $2
            """
    }

    enum ByDigest: ManifestLookupKind {
        static let sql = """
            SELECT \(PostgresCatalog.manifestColumns) FROM manifests m JOIN repositories r ON r.id = m.repository_id
            WHERE r.name = $1 AND m.digest = $2
            """
    }

    /// A manifest of `repository` by tag or digest (`key`, its text).
    struct ManifestLookup<Kind: ManifestLookupKind>: PostgresPreparedStatement {
        static var name: String { "kura_manifest_" + String(describing: Kind.self).lowercased() }
        static var sql: String { Kind.sql }
        typealias Row = PostgresRow

        var repository: String
        var key: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(repository)
            bindings.append(key)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }

    /// The rows of a prepared statement (prepared on the connection first if it is not yet).
    func rows<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [PostgresRow]
    where Statement.Row == PostgresRow {
        var rows: [PostgresRow] = []
        for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}
