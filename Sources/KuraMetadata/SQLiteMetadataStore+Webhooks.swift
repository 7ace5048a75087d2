import Foundation
import GRDB

extension SQLiteMetadataStore: WebhookStore {
    public func createWebhook(_ webhook: WebhookRecord) async throws {
        let events = webhook.events.map(\.rawValue).sorted().joined(separator: ",")
        try await write(announcing: .webhooks) { db in
            try db.execute(
                sql: "INSERT INTO webhooks (id, namespace, url, sealed_secret, events, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [webhook.id, webhook.namespace, webhook.url, Data(webhook.sealedSecret), events, webhook.createdAt.catalogMilliseconds])
        }
    }

    public func webhooks(namespace: String?) async throws -> [WebhookRecord] {
        try await dbWriter.read { db in
            let rows: [Row]
            if let namespace {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM webhooks WHERE namespace = ? ORDER BY created_at, id", arguments: [namespace])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM webhooks ORDER BY created_at, id")
            }
            return try rows.map { row in
                var events: Set<WebhookEvent> = []
                for name in (row["events"] as String).split(separator: ",") {
                    guard let event = WebhookEvent(rawValue: String(name)) else {
                        throw MetadataStoreError.corruptValue(column: "webhooks.events", value: String(name))
                    }
                    events.insert(event)
                }
                return WebhookRecord(
                    id: row["id"], namespace: row["namespace"], url: row["url"], sealedSecret: Array(row["sealed_secret"] as Data),
                    events: events, createdAt: Date(catalogMilliseconds: row["created_at"]))
            }
        }
    }

    public func deleteWebhook(id: String, namespace: String) async throws -> Bool {
        try await write(announcing: .webhooks) { db in
            try db.execute(sql: "DELETE FROM webhooks WHERE id = ? AND namespace = ?", arguments: [id, namespace])
            return db.changesCount > 0
        }
    }
}

/// The webhooks table.
enum SQLiteWebhookSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("webhooks-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhooks (
                        id TEXT PRIMARY KEY,
                        namespace TEXT NOT NULL,
                        url TEXT NOT NULL,
                        sealed_secret BLOB NOT NULL,
                        events TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX webhooks_by_namespace ON webhooks(namespace);
                    """)
        }
    }
}
