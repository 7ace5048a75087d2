public import Foundation
public import KuraCore
public import NIOCore

/// The content-addressable blob store: verified ingest, deduplication, ranged reads and
/// resumable upload sessions, over any ``ObjectBackend``.
///
/// A blob lives at ``ObjectKey/init(blob:)``. It becomes visible there only after every
/// byte was hashed and the digest matched: bytes are assembled under `uploads/<id>/` and
/// published (renamed) into place in one step, so a reader never sees a partial or
/// unverified blob, and content that is already stored is not stored again.
public final class BlobStore: Sendable {
    /// Test seams that stand in for a crash at a chosen point of a commit.
    public struct Hooks: Sendable {
        /// Runs after the bytes are verified, just before they are completed and published.
        public var beforePublish: (@Sendable (Digest) async throws -> Void)?

        public init(beforePublish: (@Sendable (Digest) async throws -> Void)? = nil) {
            self.beforePublish = beforePublish
        }
    }

    public let backend: any ObjectBackend
    /// The algorithm used to hash an upload when the client has not said which it will use.
    public let defaultAlgorithm: DigestAlgorithm
    private let hooks: Hooks
    private let sessionLocks = KeyedLock()
    /// Shared by every body being written, so many concurrent uploads hold smaller parts.
    let uploadBuffers: UploadBufferBudget

    /// - Parameter uploadBufferBytes: what the part buffers of concurrent uploads should hold
    ///   between them (see ``UploadBufferBudget``).
    public init(
        backend: any ObjectBackend, defaultAlgorithm: DigestAlgorithm = .sha256, hooks: Hooks = Hooks(), uploadBufferBytes: Int = 1 << 20
    ) {
        self.backend = backend
        self.defaultAlgorithm = defaultAlgorithm
        self.hooks = hooks
        self.uploadBuffers = UploadBufferBudget(total: uploadBufferBytes)
    }

    // MARK: reading

    /// Size of a blob without reading it, or `nil` if it is not stored.
    public func stat(_ digest: Digest) async throws -> BlobInfo? {
        guard let info = try await backend.stat(ObjectKey(blob: digest)) else { return nil }
        return BlobInfo(digest: digest, size: info.size)
    }

    /// Streams a blob or a range of it. Throws `BLOB_UNKNOWN` or, for a range outside the
    /// blob, `RANGE_INVALID`.
    public func read(_ digest: Digest, range: Range<Int64>? = nil) async throws -> BlobRead {
        do {
            let read = try await backend.get(ObjectKey(blob: digest), range: range)
            return BlobRead(size: read.size, range: read.range, body: read.body, file: read.file)
        } catch StorageError.notFound {
            throw RegistryError(.blobUnknown, detail: digest.description)
        } catch StorageError.rangeNotSatisfiable(let size) {
            throw RegistryError(.rangeInvalid, "range not satisfiable", detail: "blob size is \(size)")
        }
    }

    /// A URL from which a client can fetch the blob straight from the backend (see
    /// ``ObjectBackend/directReadURL(for:expires:)``), or `nil`.
    public func directReadURL(for digest: Digest, expires: Duration) async throws -> URL? {
        try await backend.directReadURL(for: ObjectKey(blob: digest), expires: expires)
    }

    /// Removes a blob. Returns whether it was stored.
    @discardableResult
    public func delete(_ digest: Digest) async throws -> Bool {
        try await backend.delete(ObjectKey(blob: digest))
    }

    // MARK: monolithic ingest

    /// Stores a whole blob from a stream.
    ///
    /// - Parameters:
    ///   - expected: the digest the content must have; `nil` to accept whatever arrives
    ///     (hashed with `algorithm`).
    ///   - expectedLength: the length the stream must have, when the caller knows it.
    ///   - verified: runs once the content is known to match `expected` and `expectedLength`,
    ///     before the blob is made durable and published (for a caller that holds the last
    ///     bytes back from someone until they are checked, without hashing them again).
    /// - Throws: `DIGEST_INVALID` on a mismatch and `SIZE_INVALID` on a length mismatch;
    ///   in both cases nothing is stored.
    public func ingest<Body: AsyncSequence & Sendable>(
        _ body: Body, expected: Digest? = nil, expectedLength: Int64? = nil, algorithm: DigestAlgorithm? = nil,
        verified: (@Sendable () async -> Void)? = nil
    ) async throws -> BlobInfo where Body.Element == ByteBuffer {
        let hashAlgorithm = expected?.algorithm ?? algorithm ?? defaultAlgorithm
        let handle = try await backend.beginAppend(UploadState.dataKey(for: UploadID()))
        do {
            var writer = PartWriter(
                backend: backend, handle: handle, offset: 0, parts: [], hasher: ContentHasher(hashAlgorithm), budget: uploadBuffers)
            for try await chunk in body { try await writer.write(chunk) }
            try await writer.finish()
            if let expectedLength, expectedLength != writer.offset {
                throw RegistryError(.sizeInvalid, detail: "received \(writer.offset) bytes, expected \(expectedLength)")
            }
            let digest = writer.hasher.finalize()
            if let expected, expected != digest {
                throw RegistryError(.digestInvalid, detail: "content has digest \(digest), not \(expected)")
            }
            await verified?()
            return try await publish(handle: handle, parts: writer.parts, size: writer.offset, digest: digest)
        } catch {
            try? await backend.abortAppend(handle)
            throw error
        }
    }

    /// Stores an in-memory blob (manifests, configs).
    public func ingest(bytes: ByteBuffer, expected: Digest? = nil, algorithm: DigestAlgorithm? = nil) async throws -> BlobInfo {
        try await ingest(SingleBufferSequence(buffer: bytes), expected: expected, algorithm: algorithm)
    }

    /// Completes `handle` and moves it under the digest's key, unless the blob exists.
    private func publish(handle: AppendHandle, parts: [AppendedPart], size: Int64, digest: Digest) async throws -> BlobInfo {
        try await hooks.beforePublish?(digest)
        _ = try await backend.completeAppend(handle, parts: parts, size: size, publishingAs: ObjectKey(blob: digest))
        return BlobInfo(digest: digest, size: size)
    }

    // MARK: upload sessions

    /// Opens an upload session. `algorithm` is the hash used while bytes stream in; a commit
    /// with another algorithm re-reads the bytes once.
    public func startUpload(algorithm: DigestAlgorithm? = nil) async throws -> UploadStatus {
        let id = UploadID()
        let handle = try await backend.beginAppend(UploadState.dataKey(for: id))
        let now = Date()
        let hasher = ContentHasher(algorithm ?? defaultAlgorithm)
        let state = UploadState(
            id: id.value, algorithm: hasher.algorithm, offset: 0, hashState: Data(hasher.savedState), handle: handle,
            parts: [], createdAt: now, updatedAt: now)
        try await save(state)
        return status(of: state, id: id)
    }

    /// The offset and times of a session. Throws `BLOB_UPLOAD_UNKNOWN`.
    public func uploadStatus(_ id: UploadID) async throws -> UploadStatus {
        status(of: try await load(id), id: id)
    }

    /// Whether a request on this session is reading its chunk from the client now (and so
    /// gives way to a newer request on the session, as a client's retry).
    public func isReceivingChunk(_ id: UploadID) async -> Bool {
        await sessionLocks.isHeldInterruptibly(id.value)
    }

    /// Appends a chunk to a session.
    ///
    /// - Parameters:
    ///   - offset: where the client says the chunk starts; a chunk that does not start at
    ///     the session's offset is refused with `RANGE_INVALID` and changes nothing.
    ///   - expectedLength: the chunk's declared length; a body of another length is refused
    ///     with `SIZE_INVALID` and changes nothing.
    /// - Returns: the session after the chunk, whose bytes and hash state are durable.
    public func appendUpload<Body: AsyncSequence & Sendable>(
        _ id: UploadID, at offset: Int64? = nil, expectedLength: Int64? = nil, body: Body
    ) async throws -> UploadStatus where Body.Element == ByteBuffer {
        try await sessionLocks.withLock(id.value) { [self] lease in
            var state = try await load(id)
            if let offset, offset != state.offset {
                throw RegistryError(
                    .rangeInvalid, "chunk out of order", detail: "upload is at offset \(state.offset), chunk starts at \(offset)")
            }
            var writer = try await makeWriter(for: state)
            // A retry on this session interrupts a body that stalls; nothing of it is acknowledged.
            try await lease.interruptible {
                for try await chunk in body {
                    if let expectedLength, writer.acceptedBytes + Int64(chunk.readableBytes) - state.offset > expectedLength {
                        throw RegistryError(.sizeInvalid, detail: "chunk is longer than its declared \(expectedLength) bytes")
                    }
                    try await writer.write(chunk)
                }
            }
            // A tail too small to be a part (S3: under 5 MiB) is kept in its own object.
            let tail = try await writer.finish(keepingTailBelow: backend.minimumPartSize)
            if let expectedLength, writer.acceptedBytes - state.offset != expectedLength {
                throw RegistryError(
                    .sizeInvalid, detail: "chunk has \(writer.acceptedBytes - state.offset) bytes, declared \(expectedLength)")
            }
            // Data first, then the state that acknowledges it.
            try await backend.syncAppend(state.handle)
            let oldTail = state.tail
            if tail.readableBytes > 0 {
                let key = UploadState.tailKey(for: id, offset: writer.acceptedBytes)
                if key != oldTail?.key { try await backend.put(key, bytes: tail) }
                state.tail = PendingTail(key: key, size: Int64(tail.readableBytes))
            } else {
                state.tail = nil
            }
            state.offset = writer.acceptedBytes
            state.parts = writer.parts
            state.hashState = Data(writer.hasher.savedState)
            state.updatedAt = Date()
            try await save(state)
            if let oldTail, oldTail.key != state.tail?.key { _ = try? await backend.delete(oldTail.key) }
            return status(of: state, id: id)
        }
    }

    /// Commits a session as the blob `expected`, after appending an optional last chunk.
    ///
    /// On a digest mismatch nothing becomes visible under either digest, the session stays
    /// as it was before the call, and `DIGEST_INVALID` is thrown. On success the session is
    /// gone.
    public func commitUpload<Body: AsyncSequence & Sendable>(
        _ id: UploadID, expected: Digest, lastChunk: Body?, lastChunkOffset: Int64? = nil, expectedLength: Int64? = nil
    ) async throws -> BlobInfo where Body.Element == ByteBuffer {
        try await sessionLocks.withLock(id.value) { [self] lease in
            let state = try await load(id)
            if let lastChunkOffset, lastChunkOffset != state.offset {
                throw RegistryError(
                    .rangeInvalid, "chunk out of order",
                    detail: "upload is at offset \(state.offset), chunk starts at \(lastChunkOffset)")
            }
            var writer = try await makeWriter(for: state)
            if let lastChunk {
                try await lease.interruptible {
                    for try await chunk in lastChunk { try await writer.write(chunk) }
                }
            }
            // The buffered tail, if any, goes out as the last part.
            try await writer.finish()
            if lastChunk != nil, let expectedLength, writer.offset - state.offset != expectedLength {
                throw RegistryError(
                    .sizeInvalid, detail: "chunk has \(writer.offset - state.offset) bytes, declared \(expectedLength)")
            }
            let size = writer.offset
            if expected.algorithm == state.algorithm {
                let digest = writer.hasher.finalize()
                guard digest == expected else {
                    throw RegistryError(.digestInvalid, detail: "content has digest \(digest), not \(expected)")
                }
                let info = try await publish(handle: state.handle, parts: writer.parts, size: size, digest: digest)
                try await endSession(state, id)
                return info
            }
            // Another algorithm than the one hashed while streaming: finish the assembly,
            // hash it once more, and keep it only if it matches. The session ends either way.
            try await backend.completeAppend(state.handle, parts: writer.parts, size: size)
            do {
                var rehash = ContentHasher(expected.algorithm)
                for try await chunk in try await backend.get(state.handle.key, range: nil).body { rehash.update(chunk) }
                let digest = rehash.finalize()
                guard digest == expected else {
                    throw RegistryError(.digestInvalid, detail: "content has digest \(digest), not \(expected)")
                }
                try await hooks.beforePublish?(digest)
                _ = try await backend.publish(state.handle.key, to: ObjectKey(blob: digest))
                try await endSession(state, id)
                return BlobInfo(digest: digest, size: size)
            } catch {
                _ = try? await backend.delete(state.handle.key)
                try? await endSession(state, id)
                throw error
            }
        }
    }

    /// Cancels a session and deletes its bytes. Throws `BLOB_UPLOAD_UNKNOWN`.
    public func cancelUpload(_ id: UploadID) async throws {
        try await sessionLocks.withLock(id.value) { [self] _ in
            let state = try await load(id)
            try await backend.abortAppend(state.handle)
            try await backend.delete(state.handle.key)
            try await endSession(state, id)
        }
    }

    /// Deletes what is left of an ended session: its state, its tail, and its (now empty)
    /// folders, so a filesystem does not collect one empty `uploads/<id>/` per upload.
    private func endSession(_ state: UploadState, _ id: UploadID) async throws {
        let stateKey = UploadState.key(for: id)
        do {
            try await backend.deleteAll(
                [stateKey] + (state.tail.map { [$0.key] } ?? []), removingEmptyFolder: UploadState.folder(for: id))
        } catch {
            // The session has ended once its state is gone; a tail or folder left behind is
            // debris that the staging clean-up takes later.
            if try await backend.stat(stateKey) != nil { throw error }
        }
    }

    /// Every open session (for expiry), oldest activity first.
    public func uploads() async throws -> [UploadStatus] {
        var result: [UploadStatus] = []
        for try await object in backend.listAll(prefix: ObjectKeyLayout.uploadsPrefix) {
            guard let id = ObjectKeyLayout.uploadID(ofState: object.key), let state = try? await load(id) else { continue }
            result.append(status(of: state, id: id))
        }
        return result.sorted { $0.updatedAt < $1.updatedAt }
    }

    // MARK: state

    private func status(of state: UploadState, id: UploadID) -> UploadStatus {
        UploadStatus(id: id, offset: state.offset, createdAt: state.createdAt, updatedAt: state.updatedAt)
    }

    /// A writer that continues `state`: after its parts, with its buffered tail (read back
    /// from the backend) in front of the next bytes.
    private func makeWriter(for state: UploadState) async throws -> PartWriter {
        var tailBytes: ByteBuffer? = nil
        if let tail = state.tail {
            let bytes: ByteBuffer
            do {
                bytes = try await backend.getAll(tail.key, limit: max(backend.minimumPartSize, 1 << 20))
            } catch StorageError.notFound {
                throw StorageError.corruptState("upload \(state.id): buffered tail \(tail.key) is missing")
            }
            guard bytes.readableBytes == tail.size else {
                throw StorageError.corruptState("upload \(state.id): tail has \(bytes.readableBytes) bytes, expected \(tail.size)")
            }
            tailBytes = bytes
        }
        return PartWriter(
            backend: backend, handle: state.handle, offset: state.partBytes, parts: state.parts,
            hasher: try state.restoreHasher(), budget: uploadBuffers, tail: tailBytes)
    }

    private func load(_ id: UploadID) async throws -> UploadState {
        let bytes: ByteBuffer
        do {
            bytes = try await backend.getAll(UploadState.key(for: id), limit: 1 << 20)
        } catch StorageError.notFound {
            throw RegistryError(.blobUploadUnknown, detail: id.value)
        }
        do {
            let state = try JSONDecoder().decode(UploadState.self, from: Data(bytes.readableBytesView))
            guard state.id == id.value, state.offset >= 0 else { throw StorageError.corruptState("upload \(id) state") }
            if let tail = state.tail {
                guard tail.size > 0, tail.size <= state.offset, ObjectKeyLayout.isUploadObject(tail.key, of: id) else {
                    throw StorageError.corruptState("upload \(id) tail")
                }
            }
            return state
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError.corruptState("upload \(id): \(error)")
        }
    }

    private func save(_ state: UploadState) async throws {
        let data = try JSONEncoder().encode(state)
        try await backend.put(UploadState.key(for: UploadID(state.id)!), bytes: ByteBuffer(bytes: data))
    }
}
