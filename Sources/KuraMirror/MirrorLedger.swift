import KuraCore

/// What a run has done so far: counts per repository, which target repositories hold which
/// blobs (for mounts), and each blob transfer started once even when several manifests need
/// the same blob at the same time.
actor MirrorLedger {
    private var counts: [String: MirrorCounts] = [:]
    private var failures: [MirrorFailure] = []
    private var holders: [Digest: [String]] = [:]
    private var blobWork: [String: Task<Void, any Error>] = [:]

    func update(_ repository: String, _ change: (inout MirrorCounts) -> Void) {
        change(&counts[repository, default: MirrorCounts()])
    }

    func counts(of repository: String) -> MirrorCounts { counts[repository] ?? MirrorCounts() }

    func fail(_ failure: MirrorFailure) { failures.append(failure) }

    /// Notes that the target's `repository` holds `digest`.
    func hold(_ digest: Digest, in repository: String) {
        if holders[digest]?.contains(repository) != true { holders[digest, default: []].append(repository) }
    }

    /// Another target repository known to hold `digest`, to mount from.
    func holder(of digest: Digest, excluding repository: String) -> String? {
        holders[digest]?.first { $0 != repository }
    }

    /// Runs `work` once per key for the whole run; later callers wait for (and share) its outcome.
    func once(_ key: String, _ work: @escaping @Sendable () async throws -> Void) async throws {
        if let running = blobWork[key] { return try await running.value }
        let task = Task { try await work() }
        blobWork[key] = task
        try await task.value
    }

    func summary(source: String, target: String, dryRun: Bool, seconds: Double) -> MirrorSummary {
        var total = MirrorCounts()
        for value in counts.values { total.add(value) }
        return MirrorSummary(
            source: source, target: target, dryRun: dryRun, total: total, repositories: counts, failures: failures, seconds: seconds)
    }
}
