public import KuraMetadata

extension Registry {
    /// Recent runs of maintenance jobs (gc, scrub), newest first.
    public func jobRuns(kind: String?, limit: Int) async throws -> [JobRunRecord] {
        guard let store = collectionStore else { throw JobError.catalogUnsupported }
        return try await store.jobRuns(kind: kind, limit: limit)
    }
}
