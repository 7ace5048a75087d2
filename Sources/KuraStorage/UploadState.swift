public import Foundation
import KuraCore

/// What is persisted of an upload session after every chunk: enough for any process to
/// continue it. Stored as JSON at `uploads/<id>/state`.
struct UploadState: Codable, Sendable {
    var version: Int = 1
    var id: String
    var algorithm: DigestAlgorithm
    /// Bytes received and acknowledged.
    var offset: Int64
    /// The saved hash context after `offset` bytes (see ``ContentHasher/savedState``).
    var hashState: Data
    var handle: AppendHandle
    var parts: [AppendedPart]
    /// Acknowledged bytes not yet sent as a part because they are fewer than the backend's
    /// minimum part size (S3: 5 MiB), kept in a small object of their own. They are the
    /// last `tail.size` bytes before `offset` and are already covered by `hashState`.
    /// `nil` when every acknowledged byte is in a part (always, on a filesystem).
    var tail: PendingTail? = nil
    var createdAt: Date
    var updatedAt: Date

    /// The prefix of every object of the session.
    static func folder(for id: UploadID) -> String { "uploads/\(id.value)/" }

    static func key(for id: UploadID) -> ObjectKey {
        // A validated UUID always makes a valid key.
        try! ObjectKey("uploads/\(id.value)/state")
    }

    static func dataKey(for id: UploadID) -> ObjectKey {
        try! ObjectKey("uploads/\(id.value)/data")
    }

    /// The object holding the tail of a session that has acknowledged `offset` bytes. The
    /// offset makes the name unique, so a new tail never overwrites the one the saved state
    /// still names.
    static func tailKey(for id: UploadID, offset: Int64) -> ObjectKey {
        try! ObjectKey("uploads/\(id.value)/tail-\(offset)")
    }

    /// Bytes in parts.
    var partBytes: Int64 { offset - (tail?.size ?? 0) }

    func restoreHasher() throws(StorageError) -> ContentHasher {
        try ContentHasher(algorithm: algorithm, savedState: Array(hashState), byteCount: offset)
    }
}

/// Buffered bytes of a session, stored at `key` (see ``UploadState/tail``).
struct PendingTail: Codable, Sendable, Hashable {
    var key: ObjectKey
    var size: Int64
}

/// The state of an upload session as callers see it.
public struct UploadStatus: Sendable, Hashable {
    public var id: UploadID
    /// Bytes received so far; the next chunk must start here.
    public var offset: Int64
    public var createdAt: Date
    public var updatedAt: Date
}
