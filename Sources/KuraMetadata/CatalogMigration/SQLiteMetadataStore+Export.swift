import Foundation
import GRDB

/// One value of a copied row, as SQLite stored it.
enum CatalogCell: Sendable, Equatable, Codable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let number): self = .integer(number)
        case .double(let number): self = .real(number)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob(data)
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let data): data.databaseValue
        }
    }
}

/// A consistent view of a SQLite catalog to copy from: one read transaction (a WAL
/// snapshot) held for as long as the value lives, so every table is read as of one moment
/// even if a server goes on writing.
struct SQLiteCatalogExport: Sendable {
    private let reader: any DatabaseReader

    init(_ store: SQLiteMetadataStore) throws {
        if let pool = store.dbWriter as? DatabasePool {
            reader = try pool.makeSnapshot()
        } else {
            reader = store.dbWriter
        }
    }

    /// The tables the database holds (GRDB's and SQLite's own left out).
    func tableNames() async throws -> Set<String> {
        try await reader.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'"))
        }
    }

    func count(_ table: CatalogMigrationTable) async throws -> Int64 {
        try await reader.read { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table.name)\"") ?? 0 }
    }

    /// Up to `limit` rows after the row whose key is `after` (from the first when `nil`), in
    /// key order, each with the table's columns in order.
    func rows(of table: CatalogMigrationTable, after: [CatalogCell]?, limit: Int) async throws -> [[CatalogCell]] {
        let columns = table.columns.map(\.source).joined(separator: ", ")
        let key = table.keyColumns.map(\.source).joined(separator: ", ")
        var sql = "SELECT \(columns) FROM \"\(table.name)\""
        var arguments: [DatabaseValue] = []
        if let after {
            sql += " WHERE (\(key)) > (\(after.map { _ in "?" }.joined(separator: ", ")))"
            arguments = after.map(\.databaseValue)
        }
        sql += " ORDER BY \(key) LIMIT \(limit)"
        let statement = sql
        let bound = arguments
        return try await reader.read { db in
            try Row.fetchAll(db, sql: statement, arguments: StatementArguments(bound)).map { row in
                row.databaseValues.map(CatalogCell.init)
            }
        }
    }
}
