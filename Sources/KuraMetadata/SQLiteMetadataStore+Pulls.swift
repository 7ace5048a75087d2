public import Foundation
import GRDB
public import KuraCore

/// When each tag was last pulled, written in batches by the usage meter's flush (see
/// ``UsageStore/recordPulls(_:)``).
extension SQLiteMetadataStore {
    public func recordPulls(_ pulls: [ManifestPull: Date]) async throws {
        guard !pulls.isEmpty else { return }
        try await dbWriter.write { db in
            // Only tags that exist get a row (the SELECT finds none for a deleted one); a row
            // goes with its tag (ON DELETE CASCADE).
            let upsert = """
                INSERT INTO tag_pulls (repository_id, tag, pulled_at)
                SELECT t.repository_id, t.name, ?1 FROM tags t JOIN repositories r ON r.id = t.repository_id
                WHERE r.name = ?2 AND %@ = ?3
                ON CONFLICT (repository_id, tag) DO UPDATE SET pulled_at = MAX(pulled_at, excluded.pulled_at)
                """
            let byTag = try db.cachedStatement(sql: upsert.replacingOccurrences(of: "%@", with: "t.name"))
            let byDigest = try db.cachedStatement(sql: upsert.replacingOccurrences(of: "%@", with: "t.manifest_digest"))
            for (pull, time) in pulls {
                switch pull.reference {
                case .tag(let tag): try byTag.execute(arguments: [time.catalogMilliseconds, pull.repository.value, tag.value])
                case .digest(let digest): try byDigest.execute(arguments: [time.catalogMilliseconds, pull.repository.value, digest.description])
                }
            }
        }
    }

    public func lastPulls(of tags: [Tag], in repository: RepositoryName) async throws -> [Tag: Date] {
        guard !tags.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: tags.count).joined(separator: ", ")
        let arguments = StatementArguments([repository.value] + tags.map(\.value))
        let pairs = try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT p.tag, p.pulled_at FROM tag_pulls p JOIN repositories r ON r.id = p.repository_id
                    WHERE r.name = ? AND p.tag IN (\(marks))
                    """, arguments: arguments
            ).map { row -> (String, Int64) in (row[0], row[1]) }
        }
        var dates: [Tag: Date] = [:]
        for (tag, millis) in pairs { dates[try CatalogValue.tag(tag, column: "tag_pulls.tag")] = Date(catalogMilliseconds: millis) }
        return dates
    }
}

/// The last pull of each tag.
enum SQLiteTagPullSchema {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("tag-pulls-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tag_pulls (
                        repository_id INTEGER NOT NULL,
                        tag TEXT NOT NULL,
                        pulled_at INTEGER NOT NULL,
                        PRIMARY KEY (repository_id, tag),
                        FOREIGN KEY (repository_id, tag) REFERENCES tags(repository_id, name) ON DELETE CASCADE
                    ) WITHOUT ROWID
                    """)
        }
    }
}
