import Foundation
import KuraCore
import KuraMetadata
import KuraStorage
import NIOCore

// The writer's half of the garbage collection protocol (see ``GarbageCollectionStore``).
//
// The race: blob storage deduplicates, so a push whose blob already exists keeps no bytes
// of its own. If GC deletes that object between the push's "already stored" and its catalog
// write, the catalog would link (or a manifest would reference) nothing. GC removes catalog
// rows first and the object second, and the catalog refuses writes to digests being
// collected; what is left is a writer that links after GC has finished with the digest.
// Such a writer finds the digest `collected`, checks storage, and either revives it (the
// object is there: it uploaded it again) or unlinks and fails, so the client uploads again.
// A manifest that refers to a collected blob is refused by the catalog in the same
// transaction that would store it (MANIFEST_BLOB_UNKNOWN), so clients push the blob again.
// The cost on the hot path is one indexed read per link and per manifest PUT.
extension Registry {
    /// Links a blob that was just stored or found stored (within its namespace's quota), and
    /// makes sure it still is.
    /// Returns false (with the link removed) when GC deleted the object under the push.
    /// With `upload`, that session's catalog row goes in the same catalog write.
    func linkStoredBlob(_ info: BlobInfo, in repository: RepositoryName, endingUpload upload: UploadID? = nil) async throws -> Bool {
        let store = catalog.collection
        let state: BlobCollectionState?
        do {
            if let upload {
                state = try await linkUploadedBlobWithinQuota(info.digest, size: info.size, in: repository, endingUpload: upload)
            } else {
                try await linkBlobWithinQuota(info.digest, size: info.size, in: repository)
                state = try await store.collectionState(info.digest)
            }
        } catch where store.isCollectionConflict(error) {
            return false
        }
        switch state {
        case .live, nil:
            return true
        case .collecting, .collected:
            if try await blobs.stat(info.digest)?.size == info.size, try await store.reviveCollectedBlob(info.digest) {
                return true
            }
            logger.notice("blob collected during its push; the client must upload it again", metadata: ["digest": "\(info.digest)"])
            _ = try? await catalog.metadata.unlinkBlob(info.digest, from: repository)
            return false
        }
    }

    /// ``linkStoredBlob(_:in:)`` for an upload: a lost race is an error the client retries.
    func linkUploadedBlob(_ info: BlobInfo, in repository: RepositoryName, endingUpload upload: UploadID? = nil) async throws {
        guard try await linkStoredBlob(info, in: repository, endingUpload: upload) else {
            throw RegistryError(
                .unavailable, "the blob was garbage-collected while this upload completed; upload it again",
                detail: info.digest.description)
        }
    }

    /// Runs a manifest's catalog write, turning a refusal by GC into MANIFEST_BLOB_UNKNOWN.
    func storeManifestGuarded(_ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch where catalog.collection.isCollectionConflict(error) {
            // The catalog's own words (an SQLite trigger's) stay in the log, not in the answer.
            logger.notice("manifest refused: garbage collection took what it refers to", metadata: ["error": "\(error)"])
            throw RegistryError(.manifestBlobUnknown, "a blob or manifest it refers to was garbage-collected; push it again")
        }
    }

    /// After a manifest's catalog write: if its own object was collected meanwhile (the
    /// bytes were deduplicated against an object GC then deleted), stores the bytes again.
    func ensureManifestStored(_ digest: Digest, bytes: ByteBuffer) async throws {
        let store = catalog.collection
        guard let state = try await store.collectionState(digest), state != .live else { return }
        if try await blobs.stat(digest) == nil {
            _ = try await blobs.ingest(bytes: bytes, expected: digest)
        }
        // Not revived: GC took the digest again; the client must not be told it is stored.
        guard try await store.reviveCollectedBlob(digest) else {
            logger.notice("manifest collected while it was stored; the client must push it again", metadata: ["digest": "\(digest)"])
            throw RegistryError(
                .unavailable, "the manifest was garbage-collected while it was stored; push it again", detail: digest.description)
        }
    }
}
