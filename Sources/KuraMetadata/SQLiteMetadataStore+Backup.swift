import Foundation
import GRDB

/// Online backup of the SQLite catalog, and the checks a restored copy must pass.
extension SQLiteMetadataStore {
    public struct IntegrityFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes a copy of the whole catalog, consistent as of one moment, to a new database
    /// file at `path`, while the server goes on reading and writing (SQLite's online backup
    /// API, inside one read transaction of the WAL).
    public func backup(to path: String) async throws {
        let writer = dbWriter
        try await Task.detached {
            let destination = try DatabaseQueue(path: path)
            try writer.backup(to: destination)
            try destination.close()
        }.value
    }

    /// Runs SQLite's `PRAGMA integrity_check` on the database file at `path`, throwing what
    /// it reports unless that is `ok`.
    public static func checkIntegrity(of path: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        let findings = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        guard findings == ["ok"] else {
            throw IntegrityFailure(description: "\(path) fails SQLite's integrity check: \(findings.prefix(5).joined(separator: "; "))")
        }
    }
}
