import Foundation
import KuraCore
import KuraMetadata
import KuraStorage

/// What a crash leaves behind, which the catalog-driven passes cannot see: staging and
/// temporary files of interrupted writes, data of sessions that no longer exist, and blobs
/// stored but never linked (the process died between publishing and linking, or the link
/// was refused). Sessions' leftovers age by the upload expiry, blobs by the grace period.
extension CollectionRun {
    func reclaimDebris(_ summary: inout GarbageCollectionSummary, now: Date, liveSessions: Set<String>) async throws {
        let backend = registry.blobs.backend
        let uploadCutoff = now.addingTimeInterval(-options.uploadExpiry)
        let isLive: @Sendable (ObjectKey) -> Bool = { key in
            let parts = key.value.split(separator: "/")
            return parts.count >= 2 && parts[0] == "uploads" && liveSessions.contains(String(parts[1]))
        }
        let staging = try await backend.reclaimStaging(touchedBefore: uploadCutoff, keep: isLive)
        summary.debrisFilesFreed += staging.files
        summary.debrisBytesFreed += staging.bytes
        for try await object in backend.listAll(prefix: "uploads/") where !isLive(object.key) && object.modified < uploadCutoff {
            if try await backend.delete(object.key) {
                summary.debrisFilesFreed += 1
                summary.debrisBytesFreed += object.size
            }
        }
        progress(.init(phase: "debris", done: summary.debrisFilesFreed, total: nil, bytesFreed: summary.bytesFreed + summary.debrisBytesFreed))
        let blobCutoff = now.addingTimeInterval(-options.gracePeriod)
        var batch: [(Digest, ObjectInfo)] = []
        // Through the same protocol as the catalog pass: the digest is marked `collecting`
        // in the catalog before its object goes, so a push deduplicating against the object
        // meanwhile is refused or re-checks storage, and nothing links a deleted object.
        func deleteUnlinked(_ summary: inout GarbageCollectionSummary) async throws {
            let live = try await store.liveDigests(among: batch.map(\.0))
            let candidates = batch.filter { !live.contains($0.0) }
            batch.removeAll(keepingCapacity: true)
            let taken = Set(try await store.beginCollectingUnlinked(candidates.map { CatalogBlob(digest: $0.0, size: $0.1.size) }))
            var deleted: [Digest] = [], failed: [Digest] = []
            for (digest, object) in candidates where taken.contains(digest) {
                do {
                    _ = try await backend.delete(object.key)
                    deleted.append(digest)
                    summary.unlinkedBlobsFreed += 1
                    summary.debrisBytesFreed += object.size
                } catch {
                    failed.append(digest)
                    summary.errors.append("delete \(object.key.value): \(error)")
                }
            }
            try await store.finishCollecting(deleted, failed: failed)
        }
        for try await object in backend.listAll(prefix: "blobs/") where object.modified < blobCutoff {
            guard let digest = object.key.blobDigest else { continue }
            batch.append((digest, object))
            if batch.count >= options.pageSize { try await deleteUnlinked(&summary) }
        }
        try await deleteUnlinked(&summary)
        progress(.init(phase: "unlinked blobs", done: summary.unlinkedBlobsFreed, total: nil, bytesFreed: summary.bytesFreed + summary.debrisBytesFreed))
    }
}
