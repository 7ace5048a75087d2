import Foundation
import GRDB
public import KuraCore

extension SQLiteMetadataStore: RetentionStore {
    public func setRetentionPolicy(_ policy: RetentionPolicy) async throws {
        let json = String(decoding: try JSONEncoder().encode(policy), as: UTF8.self)
        try await dbWriter.write { db in
            try db.execute(
                sql: "INSERT INTO retention_policies (scope, policy) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET policy = excluded.policy",
                arguments: [policy.scope, json])
        }
    }

    public func removeRetentionPolicy(scope: String) async throws -> Bool {
        try await dbWriter.write { db in
            try db.execute(sql: "DELETE FROM retention_policies WHERE scope = ?", arguments: [scope])
            return db.changesCount > 0
        }
    }

    public func retentionPolicies() async throws -> [RetentionPolicy] {
        let texts = try await dbWriter.read { db in try String.fetchAll(db, sql: "SELECT policy FROM retention_policies ORDER BY scope") }
        return try texts.map { try JSONDecoder().decode(RetentionPolicy.self, from: Data($0.utf8)) }
    }

    public func tagRecords(in repository: RepositoryName) async throws -> [TagRecord] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.name, t.manifest_digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
                    WHERE r.name = ? ORDER BY t.updated_at DESC, t.name
                    """,
                arguments: [repository.value]
            ).map { row in
                TagRecord(
                    tag: try CatalogValue.tag(row["name"], column: "tags.name"),
                    digest: try CatalogValue.digest(row["manifest_digest"], column: "tags.manifest_digest"),
                    updatedAt: Date(catalogMilliseconds: row["updated_at"]))
            }
        }
    }
}

/// The retention table.
enum SQLiteRetentionSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("retention-v1") { db in
            try db.execute(sql: "CREATE TABLE retention_policies (scope TEXT PRIMARY KEY, policy TEXT NOT NULL) WITHOUT ROWID")
        }
    }
}
