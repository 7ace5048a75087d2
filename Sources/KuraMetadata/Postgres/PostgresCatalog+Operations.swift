import Foundation
public import KuraCore
import Logging
import PostgresNIO

// Retention policies and webhooks: small tables, one statement per method.

extension PostgresCatalog: RetentionStore {
    public func setRetentionPolicy(_ policy: RetentionPolicy) async throws {
        let json = String(decoding: try JSONEncoder().encode(policy), as: UTF8.self)
        _ = try await rows(
            "INSERT INTO retention_policies (scope, policy) VALUES (\(policy.scope), \(json)) ON CONFLICT (scope) DO UPDATE SET policy = EXCLUDED.policy"
        )
    }

    public func removeRetentionPolicy(scope: String) async throws -> Bool {
        try await !rows("DELETE FROM retention_policies WHERE scope = \(scope) RETURNING 1").isEmpty
    }

    public func retentionPolicies() async throws -> [RetentionPolicy] {
        try await rows("SELECT policy FROM retention_policies ORDER BY scope").decoded { row in
            try JSONDecoder().decode(RetentionPolicy.self, from: Data(try row.decode(String.self).utf8))
        }
    }

    public func tagRecords(in repository: RepositoryName) async throws -> [TagRecord] {
        try await rows(
            """
            SELECT t.name, t.manifest_digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
            WHERE r.name = \(repository.value) ORDER BY t.updated_at DESC, t.name
            """
        ).decoded { row in
            let (name, digest, updated) = try row.decode((String, String, Int64).self)
            return TagRecord(
                tag: try CatalogValue.tag(name, column: "tags.name"),
                digest: try CatalogValue.digest(digest, column: "tags.manifest_digest"), updatedAt: Date(catalogMilliseconds: updated))
        }
    }
}

extension PostgresCatalog: WebhookStore {
    public func createWebhook(_ webhook: WebhookRecord) async throws {
        defer { announceLocally(.webhooks) }
        let events = webhook.events.map(\.rawValue).sorted().joined(separator: ",")
        _ = try await rows(
            """
            INSERT INTO webhooks (id, namespace, url, sealed_secret, events, created_at)
            VALUES (\(webhook.id), \(webhook.namespace), \(webhook.url), \(Data(webhook.sealedSecret)), \(events), \(webhook.createdAt.catalogMilliseconds))
            """)
    }

    public func webhooks(namespace: String?) async throws -> [WebhookRecord] {
        try await rows(
            """
            SELECT id, namespace, url, sealed_secret, events, created_at FROM webhooks
            WHERE \(namespace)::TEXT IS NULL OR namespace = \(namespace) ORDER BY created_at, id
            """
        ).decoded { row in
            let (id, namespace, url, secret, names, created) = try row.decode((String, String, String, Data, String, Int64).self)
            var events: Set<WebhookEvent> = []
            for name in names.split(separator: ",") {
                guard let event = WebhookEvent(rawValue: String(name)) else {
                    throw MetadataStoreError.corruptValue(column: "webhooks.events", value: String(name))
                }
                events.insert(event)
            }
            return WebhookRecord(
                id: id, namespace: namespace, url: url, sealedSecret: Array(secret), events: events, createdAt: Date(catalogMilliseconds: created))
        }
    }

    public func deleteWebhook(id: String, namespace: String) async throws -> Bool {
        defer { announceLocally(.webhooks) }
        return try await !rows("DELETE FROM webhooks WHERE id = \(id) AND namespace = \(namespace) RETURNING 1").isEmpty
    }
}
