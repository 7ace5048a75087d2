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
    var createdAt: Date
    var updatedAt: Date

    static func key(for id: UploadID) -> ObjectKey {
        // A validated UUID always makes a valid key.
        try! ObjectKey("uploads/\(id.value)/state")
    }

    static func dataKey(for id: UploadID) -> ObjectKey {
        try! ObjectKey("uploads/\(id.value)/data")
    }

    func restoreHasher() throws(StorageError) -> ContentHasher {
        try ContentHasher(algorithm: algorithm, savedState: Array(hashState), byteCount: offset)
    }
}

/// The state of an upload session as callers see it.
public struct UploadStatus: Sendable, Hashable {
    public var id: UploadID
    /// Bytes received so far; the next chunk must start here.
    public var offset: Int64
    public var createdAt: Date
    public var updatedAt: Date
}
