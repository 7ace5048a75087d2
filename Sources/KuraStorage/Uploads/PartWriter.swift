import KuraCore
import NIOCore

/// Streams bytes into an append handle in parts of the size its ``UploadBufferBudget``
/// share allows (the backend's preferred size when few uploads run at once), hashing each
/// part while the backend writes it (the two overlap on two cores; a filesystem part starts
/// without a child task, ``SubmittedWrite``).
///
/// A writer can start with a *tail*: bytes of an upload session that were acknowledged and
/// hashed earlier but not yet sent as a part because they were fewer than the backend's
/// ``ObjectBackend/minimumPartSize``. They lead the first part and are not hashed again.
struct PartWriter {
    let backend: any ObjectBackend
    /// `backend` when its parts start without a child task (the filesystem).
    private let submitting: (any SubmitsParts)?
    let handle: AppendHandle
    /// The writer's share of the store's part memory, held as long as the writer is.
    private let lease: UploadBufferBudget.Lease
    var partSize: Int { lease.partSize }
    /// Bytes handed to the backend as parts.
    private(set) var offset: Int64
    private(set) var parts: [AppendedPart]
    private(set) var hasher: ContentHasher
    private var pending: ByteBuffer
    /// How many leading bytes of `pending` the hasher has already seen.
    private var prehashed: Int
    private let allocator = ByteBufferAllocator()

    init(
        backend: any ObjectBackend, handle: AppendHandle, offset: Int64, parts: [AppendedPart], hasher: ContentHasher,
        budget: UploadBufferBudget, tail: ByteBuffer? = nil
    ) {
        self.backend = backend
        self.submitting = backend as? any SubmitsParts
        self.handle = handle
        self.lease = budget.lease(preferred: backend.preferredPartSize, minimum: backend.minimumPartSize)
        self.offset = offset
        self.parts = parts
        self.hasher = hasher
        self.pending = tail ?? ByteBuffer()
        self.prehashed = tail?.readableBytes ?? 0
    }

    /// Bytes accepted so far, including those not yet handed to the backend.
    var acceptedBytes: Int64 { offset + Int64(pending.readableBytes) }

    mutating func write(_ chunk: ByteBuffer) async throws {
        if pending.readableBytes == 0, chunk.readableBytes >= partSize {
            try await flush(chunk)  // large buffers go through without a copy
            return
        }
        var chunk = chunk
        while chunk.readableBytes > 0 {
            if pending.capacity == 0 { pending = allocator.buffer(capacity: partSize) }
            let take = min(partSize - pending.readableBytes, chunk.readableBytes)
            var slice = chunk.readSlice(length: take)!
            pending.writeBuffer(&slice)
            if pending.readableBytes >= partSize {
                do {
                    let full = pending
                    try await flush(full)
                }
                // The backend is done with the part: the same memory takes the next one. A
                // fresh part buffer each time cost page faults on every part, and handing the
                // request's own buffers to the backend instead (no copy) cost more still: NIO
                // then allocates a fresh buffer for every read.
                pending.clear()
            }
        }
    }

    /// Hands the buffered tail to the backend.
    mutating func finish() async throws {
        guard pending.readableBytes > 0 else { return }
        let tail = pending
        pending = ByteBuffer()
        try await flush(tail)
    }

    /// Hands the buffered tail to the backend if it is at least `minimumPartSize` bytes;
    /// otherwise hashes it and returns it (it stays buffered, and counts in
    /// ``acceptedBytes``), for the caller to keep until the next chunk. With a minimum of
    /// one byte (the filesystem) this is ``finish()``.
    mutating func finish(keepingTailBelow minimumPartSize: Int) async throws -> ByteBuffer {
        if pending.readableBytes >= max(1, minimumPartSize) {
            try await finish()
            return ByteBuffer()
        }
        if pending.readableBytes > prehashed {
            hasher.update(pending.getSlice(at: pending.readerIndex + prehashed, length: pending.readableBytes - prehashed)!)
            prehashed = pending.readableBytes
        }
        return pending
    }

    private mutating func flush(_ part: ByteBuffer) async throws {
        let backend = self.backend
        let handle = self.handle
        let number = (parts.last?.number ?? 0) + 1
        let offset = self.offset
        var unhashed = part
        let skip = min(prehashed, part.readableBytes)
        unhashed.moveReaderIndex(forwardBy: skip)
        prehashed -= skip
        let appended: AppendedPart
        if let submitting {
            let write = submitting.submitPart(handle, number: number, offset: offset, data: part)
            hasher.update(unhashed)
            appended = try await write.value()
        } else {
            async let receipt = backend.appendPart(handle, number: number, offset: offset, data: part)
            hasher.update(unhashed)
            appended = try await receipt
        }
        // Parts without an etag (filesystem) need no receipts: keep one running entry.
        if appended.etag.isEmpty, let last = parts.last, last.etag.isEmpty, last.offset + last.size == appended.offset {
            parts[parts.count - 1].size += appended.size
        } else {
            parts.append(appended)
        }
        self.offset += appended.size
    }
}
