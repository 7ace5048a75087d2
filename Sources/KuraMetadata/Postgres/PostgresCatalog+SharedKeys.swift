import Foundation
import PostgresNIO

extension PostgresCatalog: SharedKeyStore {
    public func sharedKey(_ name: String, orStore candidate: [UInt8]) async throws -> [UInt8] {
        // ON CONFLICT DO NOTHING waits for a racing insert to commit; the SELECT after it,
        // a statement of its own, then reads whichever key won.
        _ = try await rows(
            """
            INSERT INTO kura_shared_keys (name, value, created_at) VALUES (\(name), \(Data(candidate)), \(Date().catalogMilliseconds))
            ON CONFLICT (name) DO NOTHING
            """)
        guard let row = try await rows("SELECT value FROM kura_shared_keys WHERE name = \(name)").first else {
            throw MetadataStoreError.corruptValue(column: "kura_shared_keys.name", value: name)
        }
        return Array(try row.decode(Data.self))
    }
}
