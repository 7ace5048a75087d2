import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// An online backup (SQLite's backup API, a consistent snapshot while writers go on) into
    /// a temporary file, opened as a store of its own that deletes the file when released.
    public func scratchCopy() async throws -> any GarbageCollectionStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-catalog-scratch-\(UUID().uuidString).sqlite").path
        let copy: DatabaseQueue
        do { copy = try DatabaseQueue(path: path, configuration: Self.configuration()) } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        let store = SQLiteMetadataStore(temporary: copy, path: path)
        try await dbWriter.read { db in try copy.writeWithoutTransaction { try db.backup(to: $0) } }
        return store
    }
}
