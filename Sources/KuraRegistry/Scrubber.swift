public import Foundation
import KuraCore
public import KuraMetadata
import KuraStorage

/// The result of a scrub.
public struct ScrubReport: Sendable, Hashable, Codable {
    public var runID: Int64 = 0
    public var repair = false
    public var startedAt = Date()
    public var finishedAt = Date()
    public var blobsChecked = 0
    public var bytesChecked: Int64 = 0
    /// Digests whose stored bytes hash to something else or have another size.
    public var corrupt: [String] = []
    /// Digests the catalog holds whose object is not in storage.
    public var missing: [String] = []
    /// Objects under `blobs/` the catalog does not know (counted; listed up to a limit).
    public var orphanedCount = 0
    public var orphanedBytes: Int64 = 0
    public var orphaned: [String] = []
    /// Manifest references that do not resolve (external layers show here too).
    public var danglingReferences: [DanglingReference] = []
    /// Corrupt or missing blobs removed from the catalog (and storage) by `repair`.
    public var repaired: [String] = []
    public var errors: [String] = []

    public var clean: Bool { corrupt.isEmpty && missing.isEmpty && danglingReferences.isEmpty }
}

/// Reads every blob the catalog holds, verifies digest and size, checks that manifest
/// references resolve, and looks for objects the catalog does not know.
///
/// With `repair`, corrupt and missing blobs (not manifests) lose their links and their
/// object and are marked collected, so a client's next push uploads them again instead of
/// being told they exist.
public struct Scrubber: Sendable {
    public let registry: Registry
    public var repair: Bool
    public var concurrency: Int
    public var pageSize = 500
    public var listLimit = 1000

    public init(registry: Registry, repair: Bool = false, concurrency: Int = 4) {
        self.registry = registry
        self.repair = repair
        self.concurrency = concurrency
    }

    public func run(progress: @escaping @Sendable (GarbageCollectionProgress) -> Void = { _ in }) async throws -> ScrubReport {
        let store = registry.catalog.collection
        let scrub = self
        // A read-only scrub takes the lease too, so that it does not report a concurrent
        // collection's deletions as missing objects.
        return try await withJobLease(
            store, kind: "scrub", dryRun: !repair, ttl: 120, summary: { GarbageCollector.json($0) },
            measure: { ($0.blobsChecked, $0.bytesChecked) }
        ) { runID in
            var report = ScrubReport()
            report.runID = runID
            report.repair = scrub.repair
            try await scrub.checkBlobs(store, &report, progress)
            report.danglingReferences = try await store.danglingReferences(limit: scrub.listLimit)
            try await scrub.findOrphans(store, &report, progress)
            report.finishedAt = Date()
            return report
        }
    }

    enum Finding: Sendable { case ok, corrupt(String), missing, failed(String) }

    private func checkBlobs(
        _ store: any GarbageCollectionStore, _ report: inout ScrubReport,
        _ progress: @Sendable (GarbageCollectionProgress) -> Void
    ) async throws {
        let total = try await store.catalogBlobTotals().count
        let blobs = registry.blobs
        let width = max(1, concurrency)
        var after: Digest? = nil
        while true {
            let page = try await store.liveBlobs(after: after, limit: pageSize)
            guard let last = page.last else { break }
            after = last.digest
            let findings = await withTaskGroup(of: (CatalogBlob, Finding, Int64).self) { group in
                var results: [(CatalogBlob, Finding, Int64)] = []
                var iterator = page.makeIterator()
                for _ in 0..<width {
                    if let blob = iterator.next() { group.addTask { await Self.verify(blob, blobs) } }
                }
                for await result in group {
                    results.append(result)
                    if let blob = iterator.next() { group.addTask { await Self.verify(blob, blobs) } }
                }
                return results
            }
            for (blob, finding, bytes) in findings {
                report.blobsChecked += 1
                report.bytesChecked += bytes
                switch finding {
                case .ok: continue
                case .failed(let message): report.errors.append("\(blob.digest): \(message)")
                case .corrupt(let why):
                    report.corrupt.append(blob.digest.description)
                    report.errors.append("\(blob.digest): \(why)")
                    if repair, try await store.forgetLostBlob(blob.digest) {
                        _ = try? await blobs.delete(blob.digest)
                        report.repaired.append(blob.digest.description)
                    }
                case .missing:
                    report.missing.append(blob.digest.description)
                    if repair, try await store.forgetLostBlob(blob.digest) { report.repaired.append(blob.digest.description) }
                }
            }
            progress(.init(phase: "verify", done: report.blobsChecked, total: total, bytesFreed: 0))
        }
    }

    /// Reads and hashes one blob (scrub, and restore before it swaps a catalog in).
    static func verify(_ blob: CatalogBlob, _ blobs: BlobStore) async -> (CatalogBlob, Finding, Int64) {
        do {
            let read = try await blobs.read(blob.digest)
            var hasher = ContentHasher(blob.digest.algorithm)
            for try await chunk in read.body { hasher.update(chunk) }
            let digest = hasher.finalize()
            if digest != blob.digest {
                return (blob, .corrupt("content hashes to \(digest)"), hasher.byteCount)
            }
            if hasher.byteCount != blob.size {
                return (blob, .corrupt("\(hasher.byteCount) bytes, catalog says \(blob.size)"), hasher.byteCount)
            }
            return (blob, .ok, hasher.byteCount)
        } catch let error as RegistryError where error.code == .blobUnknown {
            return (blob, .missing, 0)
        } catch {
            return (blob, .failed("\(error)"), 0)
        }
    }

    private func findOrphans(
        _ store: any GarbageCollectionStore, _ report: inout ScrubReport,
        _ progress: @Sendable (GarbageCollectionProgress) -> Void
    ) async throws {
        var batch: [(Digest, ObjectInfo)] = []
        func flush(_ report: inout ScrubReport) async throws {
            let live = try await store.liveDigests(among: batch.map(\.0))
            for (digest, object) in batch where !live.contains(digest) {
                report.orphanedCount += 1
                report.orphanedBytes += object.size
                if report.orphaned.count < listLimit { report.orphaned.append(object.key.value) }
            }
            batch.removeAll(keepingCapacity: true)
        }
        for try await object in registry.blobs.backend.listAll(prefix: ObjectKeyLayout.blobsPrefix) {
            guard let digest = ObjectKeyLayout.digest(ofBlob: object.key) else {
                report.orphanedCount += 1
                if report.orphaned.count < listLimit { report.orphaned.append(object.key.value) }
                continue
            }
            batch.append((digest, object))
            if batch.count >= pageSize {
                try await flush(&report)
                progress(.init(phase: "orphans", done: report.orphanedCount, total: nil, bytesFreed: 0))
            }
        }
        try await flush(&report)
    }
}
