public import KuraCore

/// Where everything lives inside a backend, in one place: verified blobs under `blobs/`,
/// upload sessions under `uploads/<id>/`, a cache's fills being checked under `fill/`.
public enum ObjectKeyLayout {
    public static let blobsPrefix = "blobs/"
    public static let uploadsPrefix = "uploads/"

    /// `blobs/<algorithm>/<first two hex>/<hex>`.
    public static func blob(_ digest: Digest) -> String {
        "blobs/\(digest.algorithm.rawValue)/\(digest.encoded.prefix(2))/\(digest.encoded)"
    }

    /// The digest a verified blob's key names; `nil` for any other key.
    public static func digest(ofBlob key: ObjectKey) -> Digest? {
        let parts = key.value.split(separator: "/")
        guard parts.count == 4, parts[0] == "blobs" else { return nil }
        return try? Digest(parsing: "\(parts[1]):\(parts[3])")
    }

    // A validated upload id (a UUID) always makes a valid key, hence `try!` below.

    /// The prefix of every object of the session `id`.
    static func uploadFolder(_ id: UploadID) -> String { "uploads/\(id.value)/" }

    /// The saved state of an upload session (JSON).
    static func uploadState(_ id: UploadID) -> ObjectKey { try! ObjectKey("uploads/\(id.value)/state") }

    /// The bytes of an upload session, assembled in parts.
    static func uploadData(_ id: UploadID) -> ObjectKey { try! ObjectKey("uploads/\(id.value)/data") }

    /// The tail of a session that has acknowledged `offset` bytes: the offset makes the
    /// name unique, so a new tail never overwrites the one the saved state still names.
    static func uploadTail(_ id: UploadID, offset: Int64) -> ObjectKey { try! ObjectKey("uploads/\(id.value)/tail-\(offset)") }

    /// Whether `key` belongs to the session `id`.
    static func isUploadObject(_ key: ObjectKey, of id: UploadID) -> Bool { key.value.hasPrefix("uploads/\(id.value)/") }

    /// The session whose saved state `key` is; `nil` for any other key.
    static func uploadID(ofState key: ObjectKey) -> UploadID? {
        let parts = key.value.split(separator: "/")
        guard parts.count == 3, parts[0] == "uploads", parts[2] == "state" else { return nil }
        return UploadID(String(parts[1]))
    }

    /// A fresh staging key for a cache fill being verified.
    static func fillStaging(_ name: String) throws(StorageError) -> ObjectKey { try ObjectKey("fill/\(name)") }
}
