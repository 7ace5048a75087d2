public import Foundation
import KuraCore
import KuraMetadata

/// Applies retention policies: deletes the tags they do not keep, and with its last tag
/// each manifest nothing else holds (no other tag, no index of its repository, no tagged
/// referrer) — what an operator means by "keep the last 10 images". The blobs those
/// manifests held become garbage, which GC frees once their grace period has passed (so the
/// next `kura gc` frees them when they were pushed more than `--grace`, 24 h, ago).
public struct RetentionEvaluator: Sendable {
    /// A tag that goes (or would go, in a dry run).
    public struct Decision: Sendable, Hashable, Codable {
        public var repository: String
        public var tag: String
        public var digest: String
        public var updatedAt: Date
        public var policy: String
        /// Whether the manifest went with the tag (in a dry run: whether no kept tag of the
        /// repository holds it, so it would go unless an index or referrer holds it).
        public var manifestDeleted = false
    }

    public let registry: Registry

    public init(registry: Registry) { self.registry = registry }

    /// Evaluates every policy over the repositories in its scope; deletes unless `dryRun`.
    /// A repository under several policies (namespace and repository) follows the most
    /// specific one. Runs under the catalog's maintenance lease and is recorded as a job run.
    public func run(dryRun: Bool, now: Date = Date()) async throws -> [Decision] {
        let jobs = registry.catalog.collection
        let decisions = try await withJobLease(
            jobs, kind: "retention", dryRun: dryRun, ttl: 120,
            summary: { decisions in
                let manifests = decisions.filter(\.manifestDeleted).count
                return "{\"manifestsDeleted\":\(dryRun ? 0 : manifests),\"manifestsMatched\":\(manifests),\"tagsDeleted\":\(dryRun ? 0 : decisions.count),\"tagsMatched\":\(decisions.count)}"
            },
            measure: { (dryRun ? 0 : $0.count, 0) }
        ) { _ in try await evaluate(dryRun: dryRun, jobs: jobs, now: now) }
        if !dryRun {
            await registry.events.emit(RegistryEvent(.jobRun, actor: nil, job: "retention", summary: ["tagsDeleted": Int64(decisions.count)]))
        }
        return decisions
    }

    private func evaluate(dryRun: Bool, jobs: any GarbageCollectionStore, now: Date) async throws -> [Decision] {
        let store = registry.catalog.retention
        let policies = try await store.retentionPolicies()
        var decisions: [Decision] = []
        var after: String?
        repeat {
            let page = try await registry.catalog.metadata.repositories(after: after, limit: 1000)
            for repository in page {
                let namespace = String(repository.firstComponent)
                guard let policy = policies.first(where: { $0.scope == repository.value }) ?? policies.first(where: { $0.scope == namespace })
                else { continue }
                let tags = try await store.tagRecords(in: repository)
                let doomed = try Self.doomed(tags, policy: policy, now: now)
                let doomedTags = Set(doomed.map(\.tag))
                let keptDigests = Set(tags.filter { !doomedTags.contains($0.tag) }.map(\.digest))
                var found: [Decision] = []
                for record in doomed {
                    found.append(
                        Decision(repository: repository.value, tag: record.tag.value, digest: record.digest.description,
                                 updatedAt: record.updatedAt, policy: policy.scope, manifestDeleted: !keptDigests.contains(record.digest)))
                    if !dryRun, try await registry.catalog.metadata.deleteTag(record.tag, in: repository) != nil {
                        registry.manifestsChanged(in: repository)
                        await registry.events.emit(
                            RegistryEvent(
                                .retentionTagDelete, repository: repository, reference: record.tag.value, digest: record.digest, actor: nil,
                                job: "retention", detail: "policy \(policy.scope)"))
                    }
                }
                if !dryRun {
                    // Each untagged manifest goes once, by the same conditional delete GC uses.
                    var deleted: Set<Digest> = []
                    for digest in Set(doomed.map(\.digest)) where !keptDigests.contains(digest) {
                        if let candidate = try await jobs.untaggedManifest(digest, in: repository),
                            try await jobs.deleteManifestCandidate(candidate, createdBefore: .distantFuture)
                        {
                            registry.manifestsChanged(in: repository)
                            deleted.insert(digest)
                            await registry.events.emit(
                                RegistryEvent(
                                    .collectedManifestDelete, repository: repository, reference: digest.description, digest: digest, actor: nil,
                                    job: "retention", detail: "untagged by policy \(policy.scope)"))
                        }
                    }
                    for index in found.indices { found[index].manifestDeleted = deleted.contains(doomed[index].digest) }
                }
                decisions += found
            }
            after = page.count == 1000 ? page.last?.value : nil
        } while after != nil
        return decisions
    }

    /// The tags a policy does not keep, from tags listed newest first.
    static func doomed(_ tags: [TagRecord], policy: RetentionPolicy, now: Date) throws -> [TagRecord] {
        guard policy.keepLast != nil || policy.deleteOlderThan != nil else { return [] }
        let pattern = try policy.keepPattern.map { try NSRegularExpression(pattern: "^(?:\($0))$") }
        return tags.enumerated().compactMap { index, record in
            if let keepLast = policy.keepLast, index < keepLast { return nil }
            if let pattern, pattern.firstMatch(in: record.tag.value, range: NSRange(record.tag.value.startIndex..., in: record.tag.value)) != nil {
                return nil
            }
            if let age = policy.deleteOlderThan, now.timeIntervalSince(record.updatedAt) <= age { return nil }
            return record
        }
    }
}
