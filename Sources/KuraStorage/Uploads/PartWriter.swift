import KuraCore
import NIOCore

/// Streams bytes into an append handle in parts of the backend's preferred size, hashing
/// each part while the backend writes it (the two overlap on two cores). A part is the
/// request's buffers themselves, not a copy of them.
///
/// A writer can start with a *tail*: bytes of an upload session that were acknowledged and
/// hashed earlier but not yet sent as a part because they were fewer than the backend's
/// ``ObjectBackend/minimumPartSize``. They lead the first part and are not hashed again.
struct PartWriter {
    let backend: any ObjectBackend
    let handle: AppendHandle
    let partSize: Int
    /// Bytes handed to the backend as parts.
    private(set) var offset: Int64
    private(set) var parts: [AppendedPart]
    private(set) var hasher: ContentHasher
    /// The next part, as the request's own buffers (no copy): they go to the backend as
    /// one gathered write.
    private var pieces: [ByteBuffer] = []
    /// Small chunks (a slow or chatty client) are copied together here instead, so a part
    /// never holds thousands of tiny buffers.
    private var small = ByteBuffer()
    /// Bytes in `pieces` and `small`.
    private var pendingBytes = 0
    /// How many leading bytes of the pending part the hasher has already seen.
    private var prehashed: Int
    private let allocator = ByteBufferAllocator()

    /// Chunks below this are copied into `small`.
    static let smallChunk = 32 << 10

    init(
        backend: any ObjectBackend, handle: AppendHandle, offset: Int64, parts: [AppendedPart], hasher: ContentHasher,
        tail: ByteBuffer? = nil
    ) {
        self.backend = backend
        self.handle = handle
        self.partSize = max(backend.preferredPartSize, backend.minimumPartSize)
        self.offset = offset
        self.parts = parts
        self.hasher = hasher
        if let tail, tail.readableBytes > 0 {
            pieces = [tail]
            pendingBytes = tail.readableBytes
        }
        self.prehashed = pendingBytes
    }

    /// Bytes accepted so far, including those not yet handed to the backend.
    var acceptedBytes: Int64 { offset + Int64(pendingBytes) }

    mutating func write(_ chunk: ByteBuffer) async throws {
        var chunk = chunk
        while chunk.readableBytes > 0 {
            let take = min(partSize - pendingBytes, chunk.readableBytes)
            var slice = chunk.readSlice(length: take)!
            if take < Self.smallChunk {
                if small.writableBytes < take {
                    sealSmall()
                    small = allocator.buffer(capacity: max(Self.smallChunk * 2, take))
                }
                small.writeBuffer(&slice)
            } else {
                sealSmall()
                pieces.append(slice)
            }
            pendingBytes += take
            if pendingBytes >= partSize { try await flushPending() }
        }
    }

    /// Hands the buffered tail to the backend.
    mutating func finish() async throws {
        guard pendingBytes > 0 else { return }
        try await flushPending()
    }

    /// Hands the buffered tail to the backend if it is at least `minimumPartSize` bytes;
    /// otherwise hashes it and returns it (it stays buffered, and counts in
    /// ``acceptedBytes``), for the caller to keep until the next chunk. With a minimum of
    /// one byte (the filesystem) this is ``finish()``.
    mutating func finish(keepingTailBelow minimumPartSize: Int) async throws -> ByteBuffer {
        if pendingBytes >= max(1, minimumPartSize) {
            try await finish()
            return ByteBuffer()
        }
        sealSmall()
        hashUnhashed(pieces)
        var tail = allocator.buffer(capacity: pendingBytes)
        for var piece in pieces { tail.writeBuffer(&piece) }
        pieces = [tail]
        return tail
    }

    /// Moves the small-chunk buffer, if it holds anything, to the end of the pieces.
    private mutating func sealSmall() {
        guard small.readableBytes > 0 else { return }
        pieces.append(small)
        small = ByteBuffer()
    }

    /// Hashes what of `pieces` the hasher has not seen, and notes it as seen.
    private mutating func hashUnhashed(_ pieces: [ByteBuffer]) {
        var skip = prehashed
        for var piece in pieces {
            if skip >= piece.readableBytes {
                skip -= piece.readableBytes
                continue
            }
            piece.moveReaderIndex(forwardBy: skip)
            skip = 0
            hasher.update(piece)
        }
        prehashed = pendingBytes
    }

    private mutating func flushPending() async throws {
        sealSmall()
        let backend = self.backend
        let handle = self.handle
        let number = (parts.last?.number ?? 0) + 1
        let offset = self.offset
        let part = pieces
        pieces = []
        // The backend writes while this task hashes (the two overlap on two cores).
        async let receipt = backend.appendPart(handle, number: number, offset: offset, pieces: part)
        hashUnhashed(part)
        pendingBytes = 0
        prehashed = 0
        let appended = try await receipt
        // Parts without an etag (filesystem) need no receipts: keep one running entry.
        if appended.etag.isEmpty, let last = parts.last, last.etag.isEmpty, last.offset + last.size == appended.offset {
            parts[parts.count - 1].size += appended.size
        } else {
            parts.append(appended)
        }
        self.offset += appended.size
    }
}
