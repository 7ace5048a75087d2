public import Foundation
import GRDB

extension SQLiteMetadataStore {
    public func createConsoleSession(_ session: ConsoleSessionRecord) async throws {
        try await dbWriter.write { db in
            try db.execute(
                sql: "INSERT INTO console_sessions (id_hash, key_id, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    session.idHash, session.keyID, session.csrfToken, session.createdAt.catalogMilliseconds, session.lastSeenAt.catalogMilliseconds,
                ])
        }
    }

    public func consoleSession(idHash: String) async throws -> ConsoleSessionRecord? {
        try await dbWriter.read { db in
            try Row.fetchOne(
                db, sql: "SELECT key_id, csrf_token, created_at, last_seen_at FROM console_sessions WHERE id_hash = ?", arguments: [idHash]
            ).map { row in
                ConsoleSessionRecord(
                    idHash: idHash, keyID: row[0], csrfToken: row[1], createdAt: Date(catalogMilliseconds: row[2]),
                    lastSeenAt: Date(catalogMilliseconds: row[3]))
            }
        }
    }

    public func touchConsoleSession(idHash: String, at time: Date) async throws -> Bool {
        try await dbWriter.write { db in
            try db.execute(
                sql: "UPDATE console_sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id_hash = ?",
                arguments: [time.catalogMilliseconds, idHash])
            return db.changesCount > 0
        }
    }

    public func deleteConsoleSession(idHash: String) async throws -> Bool {
        try await dbWriter.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
            return db.changesCount > 0
        }
    }

    public func deleteConsoleSessions(lastSeenBefore idleBefore: Date, createdBefore: Date) async throws -> Int {
        try await dbWriter.write { db in
            try db.execute(
                sql: "DELETE FROM console_sessions WHERE last_seen_at < ? OR created_at < ?",
                arguments: [idleBefore.catalogMilliseconds, createdBefore.catalogMilliseconds])
            return db.changesCount
        }
    }

    public func consoleSessionCount() async throws -> Int {
        try await dbWriter.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM console_sessions") ?? 0 }
    }
}

/// The console's sessions: no foreign key to the keys, as the console checks the key on
/// every request and sweeps expired sessions itself.
enum SQLiteConsoleSessionSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("console-sessions-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE console_sessions (
                        id_hash TEXT PRIMARY KEY NOT NULL,
                        key_id TEXT NOT NULL,
                        csrf_token TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX console_sessions_by_last_seen ON console_sessions(last_seen_at);
                    CREATE INDEX console_sessions_by_created ON console_sessions(created_at);
                    """)
        }
    }
}
