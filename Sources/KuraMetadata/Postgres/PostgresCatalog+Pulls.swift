public import Foundation
public import KuraCore
import PostgresNIO

/// When each tag was last pulled (see ``SQLiteMetadataStore`` for the same on SQLite).
extension PostgresCatalog {
    /// One upsert per pull, in one transaction and a fixed order (nodes flushing the same
    /// tags lock their rows in the same order, so they wait instead of deadlocking).
    public func recordPulls(_ pulls: [ManifestPull: Date]) async throws {
        guard !pulls.isEmpty else { return }
        let ordered = pulls.sorted { ($0.key.repository.value, $0.key.reference.description) < ($1.key.repository.value, $1.key.reference.description) }
        try await transaction { connection in
            for (pull, time) in ordered {
                let millis = time.catalogMilliseconds, repository = pull.repository.value
                switch pull.reference {
                case .tag(let tag):
                    try await connection.query(
                        """
                        INSERT INTO tag_pulls AS p (repository_id, tag, pulled_at)
                        SELECT t.repository_id, t.name, \(millis) FROM tags t JOIN repositories r ON r.id = t.repository_id
                        WHERE r.name = \(repository) AND t.name = \(tag.value)
                        ON CONFLICT (repository_id, tag) DO UPDATE SET pulled_at = GREATEST(p.pulled_at, EXCLUDED.pulled_at)
                        """, logger: self.logger)
                case .digest(let digest):
                    try await connection.query(
                        """
                        INSERT INTO tag_pulls AS p (repository_id, tag, pulled_at)
                        SELECT t.repository_id, t.name, \(millis) FROM tags t JOIN repositories r ON r.id = t.repository_id
                        WHERE r.name = \(repository) AND t.manifest_digest = \(digest.description)
                        ORDER BY t.name
                        ON CONFLICT (repository_id, tag) DO UPDATE SET pulled_at = GREATEST(p.pulled_at, EXCLUDED.pulled_at)
                        """, logger: self.logger)
                }
            }
        }
    }

    public func lastPulls(of tags: [Tag], in repository: RepositoryName) async throws -> [Tag: Date] {
        guard !tags.isEmpty else { return [:] }
        let pairs = try await rows(
            """
            SELECT p.tag, p.pulled_at FROM tag_pulls p JOIN repositories r ON r.id = p.repository_id
            WHERE r.name = \(repository.value) AND p.tag = ANY(\(tags.map(\.value)))
            """
        ).decoded { row in try row.decode((String, Int64).self) }
        var dates: [Tag: Date] = [:]
        for (tag, millis) in pairs { dates[try CatalogValue.tag(tag, column: "tag_pulls.tag")] = Date(catalogMilliseconds: millis) }
        return dates
    }
}

extension PostgresSchema {
    /// The last pull of each tag; a row goes with its tag.
    static let tagPulls = """
        CREATE TABLE tag_pulls (
            repository_id BIGINT NOT NULL,
            tag TEXT COLLATE "C" NOT NULL,
            pulled_at BIGINT NOT NULL,
            PRIMARY KEY (repository_id, tag),
            FOREIGN KEY (repository_id, tag) REFERENCES tags(repository_id, name) ON DELETE CASCADE
        );
        """
}
