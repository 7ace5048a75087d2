public import KuraMetadata

extension Registry {
    /// Recent runs of maintenance jobs (gc, scrub), newest first.
    public func jobRuns(kind: String?, limit: Int) async throws -> [JobRunRecord] {
        try await catalog.collection.jobRuns(kind: kind, limit: limit)
    }
}
