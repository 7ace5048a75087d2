public import Foundation
import KuraCore
import KuraMetadata
import KuraStorage
import Logging

/// What a collection does and how careful it is.
public struct GarbageCollectionOptions: Sendable, Hashable, Codable {
    /// Blobs linked (and referrers created) more recently than this are kept: they may
    /// belong to a push whose manifest has not arrived yet.
    public var gracePeriod: TimeInterval = 24 * 3600
    /// Upload sessions idle longer than this are removed with their data.
    public var uploadExpiry: TimeInterval = 24 * 3600
    /// Delete untagged manifests (that are not index children and not the subject of a
    /// tagged referrer) older than ``untaggedAge``. Off by default: untagged manifests are
    /// kept, as clients may pull them by digest.
    public var deleteUntagged = false
    public var untaggedAge: TimeInterval = 7 * 24 * 3600
    /// Report what would go; change nothing.
    public var dryRun = false
    /// Digests per page (and per catalog transaction).
    public var pageSize = 500
    /// Objects deleted at once.
    public var deleteConcurrency = 8
    /// How long the job lease lasts without renewal.
    public var lockTTL: TimeInterval = 120
    /// How many digests a dry run lists (all are counted).
    public var listLimit = 1000

    public init() {}
}

/// The result of a collection.
public struct GarbageCollectionSummary: Sendable, Hashable, Codable {
    public var runID: Int64 = 0
    public var dryRun = false
    public var startedAt = Date()
    public var finishedAt = Date()
    public var manifestsDeleted = 0
    public var referrersDeleted = 0
    public var blobsExamined = 0
    public var bytesExamined: Int64 = 0
    public var blobsFreed = 0
    public var bytesFreed: Int64 = 0
    public var uploadsExamined = 0
    public var uploadsExpired = 0
    public var uploadBytesFreed: Int64 = 0
    /// Crash debris: staging and temporary files, data of sessions that no longer exist,
    /// and stored blobs the catalog never linked (see GarbageCollector+Debris.swift).
    public var debrisFilesFreed = 0
    public var debrisBytesFreed: Int64 = 0
    public var unlinkedBlobsFreed = 0
    public var errors: [String] = []
    /// In a dry run: manifests (`repository@digest`) and blobs that would go, up to the
    /// list limit.
    public var manifestsListed: [String] = []
    public var blobsListed: [String] = []

    public var seconds: Double { finishedAt.timeIntervalSince(startedAt) }
}

/// Where a job is, for a progress line.
public struct GarbageCollectionProgress: Sendable, Hashable {
    public var phase: String
    public var done: Int
    public var total: Int?
    public var bytesFreed: Int64
}

public enum JobError: Error, CustomStringConvertible {
    case locked(String)

    public var description: String {
        switch self {
        case .locked(let name): "another runner holds the \(name) job lock; try again later"
        }
    }
}

/// Runs `body` holding the catalog's job lease `name`, renewing it while `body` runs, and
/// records the run. One runner at a time, across processes and nodes sharing a catalog.
func withJobLease<T: Sendable>(
    _ store: any GarbageCollectionStore, name: String = "maintenance", kind: String, dryRun: Bool, ttl: TimeInterval,
    summary: @Sendable (T) -> String?, measure: @Sendable (T) -> (objects: Int, bytes: Int64) = { _ in (0, 0) },
    _ body: @Sendable (Int64) async throws -> T
) async throws -> T {
    let started = ContinuousClock.now
    let owner = JobLease.makeOwner()
    let held: JobLease.Held<T>?
    do {
        held = try await JobLease.hold(store, name: name, owner: owner, ttl: ttl) {
            let runID = try await store.startJobRun(kind: kind, owner: owner, dryRun: dryRun)
            do {
                let result = try await body(runID)
                try await store.finishJobRun(runID, summary: summary(result), error: nil)
                return result
            } catch {
                try? await store.finishJobRun(runID, summary: nil, error: "\(error)")
                throw error
            }
        }
    } catch {
        JobMetrics.record(kind: kind, duration: ContinuousClock.now - started, outcome: "failed", objects: 0, bytes: 0)
        throw error
    }
    guard let held else { throw JobError.locked(name) }
    let (objects, bytes) = measure(held.value)
    JobMetrics.record(kind: kind, duration: ContinuousClock.now - started, outcome: "succeeded", objects: objects, bytes: bytes)
    return held.value
}

/// Online garbage collection driven by the catalog.
///
/// 1. Manifests: referrers whose subject is gone from their repository follow it, and,
///    where the options say so, old untagged manifests go — each by a conditional delete
///    that re-checks, in its transaction, that nothing (a tag, an index, a tagged
///    referrer) took it meanwhile. Repeats while a pass deletes something, since deleting
///    an index or a subject frees its children and referrers.
/// 2. Blobs: pages, in digest order, through the catalog's garbage query (no manifest
///    refers to the digest, no repository stores it as a manifest, no link younger than
///    the grace period), so memory holds one page, never the set of kept blobs. Each page
///    is taken in one transaction that re-checks and removes the catalog rows; then the
///    objects are deleted; then the digests are marked collected. See
///    ``GarbageCollectionStore`` for why a concurrent push cannot end up with a manifest
///    pointing at nothing.
/// 3. Uploads idle longer than the expiry are cancelled with their data, and catalog
///    sessions without storage are dropped.
///
/// A dry run does steps 1 and 2 on a scratch copy of the catalog (deleting manifests there,
/// counting the garbage they leave without deleting it) and leaves storage alone.
public struct GarbageCollector: Sendable {
    public let registry: Registry
    public let options: GarbageCollectionOptions

    public init(registry: Registry, options: GarbageCollectionOptions = GarbageCollectionOptions()) {
        self.registry = registry
        self.options = options
    }

    /// Runs a collection under the catalog's job lock and records it.
    public func run(
        progress: @escaping @Sendable (GarbageCollectionProgress) -> Void = { _ in }
    ) async throws -> GarbageCollectionSummary {
        let store = registry.catalog.collection
        let options = self.options
        let registry = self.registry
        let summary = try await withJobLease(
            store, kind: "gc", dryRun: options.dryRun, ttl: options.lockTTL, summary: { Self.json($0) },
            measure: { $0.dryRun ? (0, 0) : ($0.blobsFreed + $0.manifestsDeleted + $0.uploadsExpired, $0.bytesFreed + $0.uploadBytesFreed) }
        ) { runID in
            var summary = GarbageCollectionSummary()
            summary.runID = runID
            summary.dryRun = options.dryRun
            // A dry run deletes for real, in a private copy of the catalog: so it sees what
            // the manifests it would delete leave behind, as the real run would.
            var catalog = store
            if options.dryRun { catalog = try await store.scratchCopy() }
            try await CollectionRun(registry: registry, store: catalog, options: options, progress: progress).run(&summary)
            summary.finishedAt = Date()
            return summary
        }
        if !summary.dryRun {
            // After the lease's bookkeeping, so the run is recorded when sinks hear of it.
            await registry.events.emit(
                RegistryEvent(
                    .jobRun, actor: nil, job: "gc",
                    summary: [
                        "run": summary.runID, "blobsFreed": Int64(summary.blobsFreed), "bytesFreed": summary.bytesFreed,
                        "manifestsDeleted": Int64(summary.manifestsDeleted), "uploadsExpired": Int64(summary.uploadsExpired),
                    ]))
        }
        return summary
    }

    static func json<T: Encodable>(_ value: T) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }
}

struct CollectionRun {
    let registry: Registry
    let store: any GarbageCollectionStore
    let options: GarbageCollectionOptions
    let progress: @Sendable (GarbageCollectionProgress) -> Void

    func run(_ summary: inout GarbageCollectionSummary) async throws {
        let now = Date()
        if !options.dryRun {
            try await store.recoverAndPurge(forgetBefore: now.addingTimeInterval(-max(7 * 24 * 3600, 2 * options.gracePeriod)))
        }
        try await collectManifests(&summary, now: now)
        try await collectBlobs(&summary, now: now)
        let liveSessions = try await expireUploads(&summary, now: now)
        if !options.dryRun { try await reclaimDebris(&summary, now: now, liveSessions: liveSessions) }
    }

    private func collectManifests(_ summary: inout GarbageCollectionSummary, now: Date) async throws {
        let referrerCutoff = now.addingTimeInterval(-options.gracePeriod)
        let untaggedCutoff = now.addingTimeInterval(-max(options.untaggedAge, options.gracePeriod))
        for _ in 0..<32 {
            var deletedThisPass = 0
            if options.deleteUntagged {
                deletedThisPass += try await sweepManifests(&summary, cutoff: untaggedCutoff) {
                    try await store.untaggedManifests(afterRowID: $0, createdBefore: untaggedCutoff, limit: options.pageSize)
                }
            }
            deletedThisPass += try await sweepManifests(&summary, cutoff: referrerCutoff) {
                try await store.orphanedReferrers(afterRowID: $0, createdBefore: referrerCutoff, limit: options.pageSize)
            }
            if deletedThisPass == 0 { break }
        }
    }

    private func sweepManifests(
        _ summary: inout GarbageCollectionSummary, cutoff: Date,
        page: (Int64) async throws -> [ManifestCandidate]
    ) async throws -> Int {
        var after: Int64 = 0
        var deleted = 0
        while true {
            let candidates = try await page(after)
            guard let last = candidates.last else { break }
            after = last.rowID
            for candidate in candidates {
                // In a dry run `store` is the scratch copy (see `GarbageCollector.run`).
                guard try await store.deleteManifestCandidate(candidate, createdBefore: cutoff) else { continue }
                registry.manifestsChanged(in: candidate.repository)
                if options.dryRun, summary.manifestsListed.count < options.listLimit {
                    summary.manifestsListed.append("\(candidate.repository)@\(candidate.digest)")
                }
                if !options.dryRun {
                    await registry.events.emit(
                        RegistryEvent(
                            .collectedManifestDelete, repository: candidate.repository, reference: candidate.digest.description, digest: candidate.digest,
                            actor: nil, job: "gc", detail: "\(candidate.reason)"))
                }
                deleted += 1
                switch candidate.reason {
                case .untagged: summary.manifestsDeleted += 1
                case .orphanedReferrer: summary.referrersDeleted += 1
                }
            }
            progress(.init(phase: "manifests", done: summary.manifestsDeleted + summary.referrersDeleted, total: nil, bytesFreed: 0))
        }
        return deleted
    }

    private func collectBlobs(_ summary: inout GarbageCollectionSummary, now: Date) async throws {
        let totals = try await store.catalogBlobTotals()
        summary.blobsExamined = totals.count
        summary.bytesExamined = totals.bytes
        let cutoff = now.addingTimeInterval(-options.gracePeriod)
        var after: Digest? = nil
        while true {
            let page = try await store.garbageBlobs(after: after, linkedBefore: cutoff, limit: options.pageSize)
            guard let last = page.last else { break }
            after = last.digest
            if options.dryRun {
                for blob in page {
                    summary.blobsFreed += 1
                    summary.bytesFreed += blob.size
                    if summary.blobsListed.count < options.listLimit { summary.blobsListed.append(blob.digest.description) }
                }
            } else {
                let taken = try await store.beginCollecting(page.map(\.digest), linkedBefore: cutoff)
                let (deleted, failed, errors) = await deleteObjects(taken)
                try await store.finishCollecting(deleted.map(\.digest), failed: failed)
                summary.blobsFreed += deleted.count
                summary.bytesFreed += deleted.reduce(0) { $0 + $1.size }
                summary.errors.append(contentsOf: errors.prefix(max(0, 100 - summary.errors.count)))
            }
            progress(.init(phase: "blobs", done: summary.blobsFreed, total: nil, bytesFreed: summary.bytesFreed))
        }
    }

    private func deleteObjects(_ blobs: [CatalogBlob]) async -> (deleted: [CatalogBlob], failed: [Digest], errors: [String]) {
        let store = registry.blobs
        let width = max(1, options.deleteConcurrency)
        return await withTaskGroup(of: (CatalogBlob, String?).self) { group in
            var deleted: [CatalogBlob] = []
            var failed: [Digest] = []
            var errors: [String] = []
            var iterator = blobs.makeIterator()
            func add(_ blob: CatalogBlob) {
                group.addTask {
                    do {
                        _ = try await store.delete(blob.digest)  // already absent is fine
                        return (blob, nil)
                    } catch {
                        return (blob, "\(blob.digest): \(error)")
                    }
                }
            }
            for _ in 0..<width { if let blob = iterator.next() { add(blob) } }
            for await (blob, error) in group {
                if let error {
                    failed.append(blob.digest)
                    errors.append(error)
                } else {
                    deleted.append(blob)
                }
                if let next = iterator.next() { add(next) }
            }
            return (deleted, failed, errors)
        }
    }

    /// Returns the sessions that stay.
    private func expireUploads(_ summary: inout GarbageCollectionSummary, now: Date) async throws -> Set<String> {
        let cutoff = now.addingTimeInterval(-options.uploadExpiry)
        let sessions = try await registry.blobs.uploads()
        summary.uploadsExamined = sessions.count
        var active = Set<String>()
        for session in sessions {
            guard session.updatedAt < cutoff else {
                active.insert(session.id.value)
                continue
            }
            summary.uploadsExpired += 1
            summary.uploadBytesFreed += session.offset
            if options.dryRun { continue }
            do {
                try await registry.blobs.cancelUpload(session.id)
            } catch {
                summary.errors.append("upload \(session.id): \(error)")
            }
            _ = try await registry.catalog.metadata.deleteUpload(session.id.value)
        }
        progress(.init(phase: "uploads", done: summary.uploadsExpired, total: sessions.count, bytesFreed: summary.bytesFreed))
        if options.dryRun { return active }
        // Catalog sessions whose storage is gone (or expired above).
        for record in try await store.uploadRecords(createdBefore: cutoff, limit: 100_000) where !active.contains(record.id) {
            _ = try await registry.catalog.metadata.deleteUpload(record.id)
        }
        return active
    }
}
