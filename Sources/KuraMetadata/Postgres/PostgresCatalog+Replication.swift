import Foundation
import PostgresNIO

extension PostgresCatalog: ReplicationStore {
    public func replicationRules() async throws -> [ReplicationRuleRecord] {
        try await rows("SELECT name, document FROM replication_rules ORDER BY name").decoded { row in
            let (name, document) = try row.decode((String, Data).self)
            return ReplicationRuleRecord(name: name, document: Array(document))
        }
    }

    public func putReplicationRule(_ rule: ReplicationRuleRecord) async throws {
        _ = try await rows(
            """
            INSERT INTO replication_rules (name, document, updated_at) VALUES (\(rule.name), \(Data(rule.document)), \(Date().catalogMilliseconds))
            ON CONFLICT (name) DO UPDATE SET document = EXCLUDED.document, updated_at = EXCLUDED.updated_at
            """)
    }

    public func deleteReplicationRule(named name: String) async throws -> Bool {
        try await !rows("DELETE FROM replication_rules WHERE name = \(name) RETURNING 1").isEmpty
    }
}
