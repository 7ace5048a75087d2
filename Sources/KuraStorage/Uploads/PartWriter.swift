import KuraCore
import NIOCore

/// Streams bytes into an append handle in parts of the size its ``UploadBufferBudget``
/// share allows (the backend's preferred size when few uploads run at once), hashing each
/// part while the backend writes it (the two overlap on two cores).
///
/// A filesystem part is the chunks as they came, written with one `pwritev` that starts
/// without a child task (``SubmitsParts``, ``SubmittedWrite``): an HTTP upload's reads go to
/// the file without being copied. Other backends (S3, whose parts are 5 MiB and more) get
/// each part as one buffer, the chunks copied into it.
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
    /// Bytes for the next part, copied into one buffer (a backend that takes a part as one
    /// buffer: S3, whose parts are 5 MiB and more).
    private var pending: ByteBuffer
    /// Bytes for the next part as they came, for a backend that writes a part from several
    /// buffers (the filesystem): the connection's reads go to the file without a copy.
    private var gathered: [ByteBuffer] = []
    private var gatheredBytes = 0
    /// How many leading bytes of the next part the hasher has already seen.
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
        self.pending = ByteBuffer()
        self.prehashed = tail?.readableBytes ?? 0
        if let tail, tail.readableBytes > 0 {
            if submitting == nil { pending = tail } else { gathered = [tail]; gatheredBytes = tail.readableBytes }
        }
    }

    /// Bytes accepted so far, including those not yet handed to the backend.
    var acceptedBytes: Int64 { offset + Int64(pending.readableBytes + gatheredBytes) }

    mutating func write(_ chunk: ByteBuffer) async throws {
        if let submitting { return try await gather(chunk, into: submitting) }
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
                // fresh part buffer each time cost page faults on every part, and holding a
                // connection's reads for a part of megabytes instead (no copy) would cost more
                // still: a connection keeps two read buffers for reuse, so NIO would allocate
                // a fresh one for every read.
                pending.clear()
            }
        }
    }

    /// Keeps `chunk` for the next part (no copy) and writes the part once it is full.
    private mutating func gather(_ chunk: ByteBuffer, into backend: any SubmitsParts) async throws {
        var chunk = chunk
        while chunk.readableBytes > 0 {
            // A chunk at least a part long, with nothing gathered, is a part by itself.
            let room = gatheredBytes == 0 ? max(partSize, chunk.readableBytes) : partSize - gatheredBytes
            let take = min(room, chunk.readableBytes)
            gathered.append(chunk.readSlice(length: take)!)
            gatheredBytes += take
            if gatheredBytes >= partSize { try await flushGathered(to: backend) }
        }
    }

    /// Hands the buffered tail to the backend.
    mutating func finish() async throws {
        if let submitting {
            if gatheredBytes > 0 { try await flushGathered(to: submitting) }
            return
        }
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
        if pending.readableBytes + gatheredBytes >= max(1, minimumPartSize) {
            try await finish()
            return ByteBuffer()
        }
        for var buffer in gathered { pending.writeBuffer(&buffer) }  // a tail below the minimum is kept as one buffer
        gathered = []
        gatheredBytes = 0
        hashUnseen(pending)
        prehashed = pending.readableBytes  // still buffered, and now hashed
        return pending
    }

    private mutating func flush(_ part: ByteBuffer) async throws {
        let backend = self.backend
        let handle = self.handle
        let number = (parts.last?.number ?? 0) + 1
        let offset = self.offset
        async let receipt = backend.appendPart(handle, number: number, offset: offset, data: part)
        hashUnseen(part)
        record(try await receipt)
    }

    /// Writes the gathered reads as one part, hashing them meanwhile.
    private mutating func flushGathered(to backend: any SubmitsParts) async throws {
        let buffers = gathered
        gathered = []
        gatheredBytes = 0
        let write = backend.submitPart(handle, number: (parts.last?.number ?? 0) + 1, offset: offset, data: buffers)
        for buffer in buffers { hashUnseen(buffer) }
        record(try await write.value())
    }

    /// Hashes the bytes of `buffer` the hasher has not seen: all but the leading ones a
    /// tail brought already hashed (``prehashed``), which this uses up.
    private mutating func hashUnseen(_ buffer: ByteBuffer) {
        var unseen = buffer
        let skip = min(prehashed, unseen.readableBytes)
        unseen.moveReaderIndex(forwardBy: skip)
        prehashed -= skip
        if unseen.readableBytes > 0 { hasher.update(unseen) }
    }

    private mutating func record(_ appended: AppendedPart) {
        // Parts without an etag (filesystem) need no receipts: keep one running entry.
        if appended.etag.isEmpty, let last = parts.last, last.etag.isEmpty, last.offset + last.size == appended.offset {
            parts[parts.count - 1].size += appended.size
        } else {
            parts.append(appended)
        }
        self.offset += appended.size
    }
}
