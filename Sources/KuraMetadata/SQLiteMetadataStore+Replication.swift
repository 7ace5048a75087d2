import Foundation
import GRDB

extension SQLiteMetadataStore: ReplicationStore {
    public func replicationRules() async throws -> [ReplicationRuleRecord] {
        try await dbWriter.read { db in
            try Row.fetchAll(db, sql: "SELECT name, document FROM replication_rules ORDER BY name").map { row in
                ReplicationRuleRecord(name: row["name"], document: Array(row["document"] as Data))
            }
        }
    }

    public func putReplicationRule(_ rule: ReplicationRuleRecord) async throws {
        let now = Date().catalogMilliseconds
        try await dbWriter.write { db in
            try db.execute(
                sql: """
                    INSERT INTO replication_rules (name, document, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at
                    """,
                arguments: [rule.name, Data(rule.document), now])
        }
    }

    public func deleteReplicationRule(named name: String) async throws -> Bool {
        try await dbWriter.write { db in
            try db.execute(sql: "DELETE FROM replication_rules WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }
}

/// The replication rules table.
enum SQLiteReplicationSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("replication-v1") { db in
            try db.execute(
                sql: "CREATE TABLE replication_rules (name TEXT PRIMARY KEY, document BLOB NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID")
        }
    }
}
