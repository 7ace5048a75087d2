import Foundation
import PostgresNIO

/// The PostgreSQL side of ``CatalogMigration``: rows copied in batches, each batch committed
/// with the record of how far its table has come (`kura_catalog_migration`), so a run that
/// stops anywhere resumes after the last committed batch.
extension PostgresCatalog {
    /// A table's progress (or, under ``CatalogMigration/overallName``, the whole migration's).
    struct MigrationProgressRow: Sendable {
        var source: String
        /// The key of the last row committed, as a JSON array; `nil` before the first batch.
        var lastKey: String?
        var rowsCopied: Int64
        var finished: Bool
    }

    func migrationProgress() async throws -> [String: MigrationProgressRow] {
        var progress: [String: MigrationProgressRow] = [:]
        for row in try await rows("SELECT table_name, source, last_key, rows_copied, finished FROM kura_catalog_migration") {
            let (table, source, lastKey, copied, finished) = try row.decode((String, String, String?, Int64, Bool).self)
            progress[table] = MigrationProgressRow(source: source, lastKey: lastKey, rowsCopied: copied, finished: finished)
        }
        return progress
    }

    /// Whether `table` has any row.
    func hasRows(_ table: String) async throws -> Bool {
        try await !rows(PostgresQuery(unsafeSQL: "SELECT 1 FROM \"\(table)\" LIMIT 1")).isEmpty
    }

    func rowCount(_ table: String) async throws -> Int64 {
        try await rows(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \"\(table)\"")).first?.decode(Int64.self) ?? 0
    }

    /// The tables of the database (schema `public`).
    func tableNames() async throws -> Set<String> {
        Set(try await rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").decoded { try $0.decode(String.self) })
    }

    /// Empties `tables` (and the migration's record), their serial counters reset.
    func truncate(_ tables: [String]) async throws {
        let list = (tables + [CatalogMigration.progressTable]).map { "\"\($0)\"" }.joined(separator: ", ")
        _ = try await rows(PostgresQuery(unsafeSQL: "TRUNCATE \(list) RESTART IDENTITY CASCADE"))
    }

    func startMigration(source: String) async throws {
        _ = try await rows(
            """
            INSERT INTO kura_catalog_migration (table_name, source, rows_copied, finished, updated_at)
            VALUES (\(CatalogMigration.overallName), \(source), 0, false, \(Date().catalogMilliseconds))
            """)
    }

    /// Inserts `rows` into `table` and records `lastKey` as its progress, in one transaction:
    /// a batch is either copied and recorded, or neither. A row already there is kept
    /// (copying is idempotent), except in tables that replace it
    /// (``CatalogMigrationTable/replacesExisting``).
    func copyBatch(
        _ rows: [[CatalogCell]], into table: CatalogMigrationTable, lastKey: String, source: String
    ) async throws {
        let insert = try Self.insertStatement(rows, into: table)
        let count = Int64(rows.count)
        let now = Date().catalogMilliseconds
        try await transaction { connection in
            _ = try await connection.query(insert, logger: self.logger)
            _ = try await connection.query(
                """
                INSERT INTO kura_catalog_migration (table_name, source, last_key, rows_copied, finished, updated_at)
                VALUES (\(table.name), \(source), \(lastKey), \(count), false, \(now))
                ON CONFLICT (table_name) DO UPDATE SET last_key = EXCLUDED.last_key,
                    rows_copied = kura_catalog_migration.rows_copied + EXCLUDED.rows_copied, updated_at = EXCLUDED.updated_at
                """, logger: self.logger)
        }
    }

    /// Marks `table` (or the whole migration) done.
    func finishMigration(of table: String, source: String) async throws {
        _ = try await rows(
            """
            INSERT INTO kura_catalog_migration (table_name, source, rows_copied, finished, updated_at)
            VALUES (\(table), \(source), 0, true, \(Date().catalogMilliseconds))
            ON CONFLICT (table_name) DO UPDATE SET finished = true, updated_at = EXCLUDED.updated_at
            """)
    }

    /// Moves the sequence of a `BIGSERIAL` column past the largest id copied, so the next
    /// row inserted by a node gets a fresh one.
    func moveSequence(of table: String, column: String) async throws {
        _ = try await rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('"\(table)"', '\(column)'), COALESCE(MAX("\(column)"), 0) + 1, false) FROM "\(table)"
                    """))
    }

    /// `INSERT … VALUES ($1::type, …), (…)` for a batch, each value cast to its column's type.
    private static func insertStatement(_ rows: [[CatalogCell]], into table: CatalogMigrationTable) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: rows.count * table.columns.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        var parameter = 0
        for row in rows {
            var placeholders: [String] = []
            for (cell, column) in zip(row, table.columns) {
                try bind(cell, as: column, of: table.name, into: &bindings)
                parameter += 1
                placeholders.append("$\(parameter)::\(column.kind.postgresType)")
            }
            tuples.append("(\(placeholders.joined(separator: ", ")))")
        }
        let columns = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        var sql = "INSERT INTO \"\(table.name)\" (\(columns)) VALUES \(tuples.joined(separator: ", "))"
        if table.replacesExisting {
            let keys = table.key.map { "\"\($0)\"" }.joined(separator: ", ")
            let updates = table.columns.filter { !table.key.contains($0.name) }.map { "\"\($0.name)\" = EXCLUDED.\"\($0.name)\"" }
            sql += " ON CONFLICT (\(keys)) DO UPDATE SET \(updates.joined(separator: ", "))"
        } else {
            sql += " ON CONFLICT DO NOTHING"
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// Binds a SQLite value as the column's PostgreSQL type. SQLite's typing is loose (a
    /// column holds what was written), so the near misses convert; anything else is refused.
    private static func bind(
        _ cell: CatalogCell, as column: CatalogMigrationTable.Column, of table: String, into bindings: inout PostgresBindings
    ) throws {
        switch (column.kind, cell) {
        case (_, .null): bindings.appendNull()
        case (.text, .text(let text)): bindings.append(text)
        case (.text, .integer(let number)): bindings.append(String(number))
        case (.text, .blob(let data)) where String(data: data, encoding: .utf8) != nil:
            bindings.append(String(decoding: data, as: UTF8.self))
        case (.integer, .integer(let number)): bindings.append(number)
        case (.integer, .text(let text)) where Int64(text) != nil: bindings.append(Int64(text) ?? 0)
        case (.blob, .blob(let data)): try bindings.append(data)
        case (.blob, .text(let text)): try bindings.append(Data(text.utf8))
        case (.boolean, .integer(let number)): bindings.append(number != 0)
        default:
            throw CatalogMigrationError.unexpectedValue(table: table, column: column.name, value: "\(cell)".prefix(80).description)
        }
    }
}

extension PostgresSchema {
    /// Migration 8: how far `kura catalog migrate` has copied each table (a row per table,
    /// and one for the whole run).
    static let catalogMigration = """
        CREATE TABLE kura_catalog_migration (
            table_name TEXT COLLATE "C" PRIMARY KEY,
            source TEXT NOT NULL,
            last_key TEXT,
            rows_copied BIGINT NOT NULL,
            finished BOOLEAN NOT NULL,
            updated_at BIGINT NOT NULL
        );
        """
}
