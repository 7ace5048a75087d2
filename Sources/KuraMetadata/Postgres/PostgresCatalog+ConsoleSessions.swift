public import Foundation
import PostgresNIO

/// The console's sessions, shared by every node on this catalog (see ``ConsoleSessionStore``).
extension PostgresCatalog {
    public func createConsoleSession(_ session: ConsoleSessionRecord) async throws {
        _ = try await rows(
            """
            INSERT INTO console_sessions (id_hash, key_id, csrf_token, created_at, last_seen_at)
            VALUES (\(session.idHash), \(session.keyID), \(session.csrfToken), \(session.createdAt.catalogMilliseconds), \(session.lastSeenAt.catalogMilliseconds))
            """)
    }

    public func consoleSession(idHash: String) async throws -> ConsoleSessionRecord? {
        try await rows("SELECT key_id, csrf_token, created_at, last_seen_at FROM console_sessions WHERE id_hash = \(idHash)").firstDecoded { row in
            let (key, token, created, seen) = try row.decode((String, String, Int64, Int64).self)
            return ConsoleSessionRecord(
                idHash: idHash, keyID: key, csrfToken: token, createdAt: Date(catalogMilliseconds: created), lastSeenAt: Date(catalogMilliseconds: seen))
        }
    }

    public func touchConsoleSession(idHash: String, at time: Date) async throws -> Bool {
        try await !rows(
            "UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, \(time.catalogMilliseconds)) WHERE id_hash = \(idHash) RETURNING 1"
        ).isEmpty
    }

    public func deleteConsoleSession(idHash: String) async throws -> Bool {
        try await !rows("DELETE FROM console_sessions WHERE id_hash = \(idHash) RETURNING 1").isEmpty
    }

    public func deleteConsoleSessions(lastSeenBefore idleBefore: Date, createdBefore: Date) async throws -> Int {
        try await rows(
            """
            DELETE FROM console_sessions WHERE last_seen_at < \(idleBefore.catalogMilliseconds) OR created_at < \(createdBefore.catalogMilliseconds)
            RETURNING 1
            """
        ).count
    }

    public func consoleSessionCount() async throws -> Int {
        try await rows("SELECT COUNT(*) FROM console_sessions").firstDecoded { Int(try $0.decode(Int64.self)) } ?? 0
    }
}

extension PostgresSchema {
    /// The console's sessions (as in SQLite: no foreign key to the keys).
    static let consoleSessions = """
        CREATE TABLE console_sessions (
            id_hash TEXT COLLATE "C" PRIMARY KEY,
            key_id TEXT COLLATE "C" NOT NULL,
            csrf_token TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen_at BIGINT NOT NULL
        );
        CREATE INDEX console_sessions_by_last_seen ON console_sessions(last_seen_at);
        CREATE INDEX console_sessions_by_created ON console_sessions(created_at);
        """
}
