public import NIOCore
public import Foundation

/// What a backend knows about a stored object.
public struct ObjectInfo: Sendable, Hashable {
    public var key: ObjectKey
    public var size: Int64
    public var modified: Date

    public init(key: ObjectKey, size: Int64, modified: Date) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

/// One page of a listing, in ascending key order.
public struct ObjectListing: Sendable {
    public var objects: [ObjectInfo]
    /// Pass as `startAfter` to get the next page; `nil` when this was the last page.
    public var nextStartAfter: String?

    public init(objects: [ObjectInfo], nextStartAfter: String?) {
        self.objects = objects
        self.nextStartAfter = nextStartAfter
    }
}

/// A streamed object body: a sequence of buffers, pulled one at a time, so a reader that
/// stops pulling stops the reads (backpressure) and memory stays bounded.
public typealias ObjectBody = AsyncThrowingStream<ByteBuffer, any Error>

/// A ranged read: the bytes of `range` out of an object of `size` bytes.
public struct ObjectRead: Sendable {
    public var size: Int64
    public var range: Range<Int64>
    public var body: ObjectBody
    /// The same bytes as a range of an open local file, when the backend reads them as they
    /// are from one (the filesystem), for a caller that can have the kernel send them
    /// (`sendfile`) instead of streaming ``body``; `nil` when the bytes are fetched, verified
    /// or decoded on the way.
    public var file: OpenFileRange?

    public init(size: Int64, range: Range<Int64>, body: ObjectBody, file: OpenFileRange? = nil) {
        self.size = size
        self.range = range
        self.body = body
        self.file = file
    }
}

/// An object being assembled from parts (an append file, or an S3 multipart upload).
///
/// Persisted inside an upload session's state so that another process can continue it.
public struct AppendHandle: Sendable, Hashable, Codable {
    /// Where the assembled object will live once completed.
    public var key: ObjectKey
    /// The backend's own id for the assembly (an S3 `UploadId`); empty where unused.
    public var uploadID: String

    public init(key: ObjectKey, uploadID: String) {
        self.key = key
        self.uploadID = uploadID
    }
}

/// A receipt for one appended part.
public struct AppendedPart: Sendable, Hashable, Codable {
    public var number: Int
    public var offset: Int64
    public var size: Int64
    /// The backend's tag for the part (an S3 ETag); empty where unused.
    public var etag: String

    public init(number: Int, offset: Int64, size: Int64, etag: String) {
        self.number = number
        self.offset = offset
        self.size = size
        self.etag = etag
    }
}

/// What `publish` did.
public enum PublishOutcome: Sendable, Equatable {
    /// The staged object now lives under the key.
    case created
    /// An object was already there; the staged one was discarded.
    case alreadyExisted
}

/// The contract every storage backend implements: flat keys, whole-object puts, ranged
/// reads, and an append path for upload sessions.
///
/// Semantics every implementation must honour (checked by the shared contract suite):
/// - an object is visible only once complete: a reader never sees half of a `put` or of
///   an unfinished append;
/// - `put` and `publish` replace nothing half-way: the key holds either the old or the new
///   object;
/// - `list` returns keys in ascending byte order;
/// - reading a range outside the object throws ``StorageError/rangeNotSatisfiable(size:)``;
///   missing objects throw ``StorageError/notFound(_:)``.
public protocol ObjectBackend: Sendable {
    /// A short name for logs and metrics (`filesystem`, `s3`, `tiered`).
    var name: String { get }

    /// The smallest part `appendPart` accepts except for the last one (S3: 5 MiB).
    var minimumPartSize: Int { get }

    /// The part size that moves data fastest through this backend.
    var preferredPartSize: Int { get }

    /// Writes a whole object from a stream and makes it visible atomically.
    /// Returns the number of bytes written.
    @discardableResult
    func put<Body: AsyncSequence & Sendable>(_ key: ObjectKey, body: Body) async throws -> Int64
    where Body.Element == ByteBuffer

    /// Reads `range` (the whole object when `nil`) as a stream.
    func get(_ key: ObjectKey, range: Range<Int64>?) async throws -> ObjectRead

    /// Size and modification time, or `nil` when there is no such object.
    func stat(_ key: ObjectKey) async throws -> ObjectInfo?

    /// Deletes an object. Returns whether it existed.
    @discardableResult
    func delete(_ key: ObjectKey) async throws -> Bool

    /// Lists objects whose key starts with `prefix`, after `startAfter`, at most `limit`.
    func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing

    /// Starts assembling an object at `key` from parts.
    func beginAppend(_ key: ObjectKey) async throws -> AppendHandle

    /// Writes one part. `offset` is the byte position of the part in the object and
    /// `number` its 1-based sequence number; a backend uses whichever it needs. Writing the
    /// same number/offset again replaces the earlier attempt.
    func appendPart(_ handle: AppendHandle, number: Int, offset: Int64, data: ByteBuffer) async throws -> AppendedPart

    /// Makes every part written so far durable (an `fdatasync`; nothing on S3).
    func syncAppend(_ handle: AppendHandle) async throws

    /// Finishes the assembly from `parts`, in order, totalling `size` bytes.
    /// The object then exists at `handle.key`.
    func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64) async throws

    /// Discards an unfinished assembly and its parts.
    func abortAppend(_ handle: AppendHandle) async throws

    /// Finishes the assembly and publishes it under `key`, in as few steps as the backend
    /// allows (a filesystem: one sync and one rename). If `key` is already stored the
    /// assembly is discarded. An assembly an earlier attempt completed but did not publish
    /// is published. A default in ``ObjectBackend`` composes `completeAppend` and `publish`.
    func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64, publishingAs key: ObjectKey) async throws
        -> PublishOutcome

    /// Moves a completed object from `staged` to `key` without copying its bytes where the
    /// backend allows (a rename on a filesystem). If `key` already exists the staged object
    /// is discarded, since keys are content addresses and the bytes are the same.
    func publish(_ staged: ObjectKey, to key: ObjectKey) async throws -> PublishOutcome

    /// A URL from which a client may `GET` the bytes of `key` itself, valid for `expires`
    /// (an S3 presigned URL), or `nil` where the backend cannot hand such URLs out. The key
    /// is not checked: ask only for keys known to exist.
    func directReadURL(for key: ObjectKey, expires: Duration) async throws -> URL?

    /// Removes the folder that holds the keys under `prefix` (which ends in `/`) if it is
    /// empty now, with any staging folder of the same name. Only for a prefix no writer uses
    /// any more (an ended upload session): a concurrent writer could lose its folder.
    /// Object stores have no folders; they do nothing.
    func removeEmptyFolder(prefix: String) async throws

    /// Deletes `keys` (missing ones are no error), then does ``removeEmptyFolder(prefix:)``:
    /// what an ended upload session leaves, removed in one step where the backend can.
    func deleteAll(_ keys: [ObjectKey], removingEmptyFolder prefix: String) async throws

    /// Stores a small in-memory object (upload state, markers) atomically, in one step
    /// where the backend can. The same contract as `put(_:body:)`.
    @discardableResult
    func put(_ key: ObjectKey, bytes: ByteBuffer) async throws -> Int64

    /// Reads a whole object into memory, refusing one over `limit` bytes. For small objects
    /// (state, markers) only.
    func getAll(_ key: ObjectKey, limit: Int) async throws -> ByteBuffer

    /// Free bytes where objects are stored, or `nil` where that is not known (object stores).
    func availableBytes() async throws -> Int64?

    /// Removes what interrupted writes left behind (staging files, temporary files) that was
    /// last touched before `cutoff` and that `keep` does not claim (an open session's
    /// assembly). Returns how many files and bytes went.
    func reclaimStaging(touchedBefore cutoff: Date, keep: @escaping @Sendable (ObjectKey) -> Bool) async throws -> StagingReclaimed
}

/// What ``ObjectBackend/reclaimStaging(touchedBefore:keep:)`` removed.
public struct StagingReclaimed: Sendable, Hashable {
    public var files = 0
    public var bytes: Int64 = 0

    public init(files: Int = 0, bytes: Int64 = 0) {
        self.files = files
        self.bytes = bytes
    }
}

extension ObjectBackend {
    /// Unknown unless the backend says.
    public func availableBytes() async throws -> Int64? { nil }

    /// Object stores keep no staging files of their own (S3: expire incomplete multipart
    /// uploads with a bucket lifecycle rule).
    public func reclaimStaging(touchedBefore cutoff: Date, keep: @escaping @Sendable (ObjectKey) -> Bool) async throws -> StagingReclaimed {
        StagingReclaimed()
    }
}

extension ObjectBackend {
    /// Backends without a URL of their own serve every read themselves.
    public func directReadURL(for key: ObjectKey, expires: Duration) async throws -> URL? { nil }

    /// Object stores have no folders to remove.
    public func removeEmptyFolder(prefix: String) async throws {}
}

extension ObjectBackend {
    /// Every object under `prefix`, page by page.
    public func listAll(prefix: String, pageSize: Int = 1000) -> AsyncThrowingStream<ObjectInfo, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ObjectInfo, any Error>.makeStream()
        let task = Task {
            var after: String? = nil
            do {
                repeat {
                    let page = try await list(prefix: prefix, startAfter: after, limit: pageSize)
                    for object in page.objects { continuation.yield(object) }
                    after = page.nextStartAfter
                } while after != nil
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

}

/// An async sequence of one buffer.
public struct SingleBufferSequence: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let buffer: ByteBuffer

    public init(buffer: ByteBuffer) { self.buffer = buffer }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var buffer: ByteBuffer?
        public mutating func next() async throws -> ByteBuffer? {
            defer { buffer = nil }
            return buffer
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer) }
}
