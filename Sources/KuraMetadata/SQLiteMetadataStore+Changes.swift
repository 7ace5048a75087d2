public import KuraCore
import GRDB

extension SQLiteMetadataStore {
    /// Runs `updates` in a write transaction and, once it has committed, announces
    /// `changes` on the store's feed (before returning, so a cache on this node never serves
    /// the old state after the write returns). Another process writing the same file (a
    /// `kura` command) is not heard: caches keep at most a second's staleness for that.
    func write<T: Sendable>(announcing changes: CatalogChange..., updates: @Sendable (Database) throws -> T) async throws -> T {
        let result = try await dbWriter.write(updates)
        for change in changes { self.changes.announce(change) }
        return result
    }

    /// Runs `updates` in a write transaction and, once it has committed, announces that the
    /// tags or manifests of `repository` changed (as ``write(announcing:updates:)`` does).
    func write<T: Sendable>(changingManifestsOf repository: RepositoryName, updates: @Sendable (Database) throws -> T) async throws -> T {
        let result = try await dbWriter.write(updates)
        changes.announceManifestsChanged(in: repository)
        return result
    }
}
