import KuraCore
import NIOCore

/// Streams bytes into an append handle in parts of the backend's preferred size, hashing
/// each part while the backend writes it (the two overlap on two cores).
struct PartWriter {
    let backend: any ObjectBackend
    let handle: AppendHandle
    let partSize: Int
    private(set) var offset: Int64
    private(set) var parts: [AppendedPart]
    private(set) var hasher: ContentHasher
    private var pending: ByteBuffer
    private let allocator = ByteBufferAllocator()

    init(backend: any ObjectBackend, handle: AppendHandle, offset: Int64, parts: [AppendedPart], hasher: ContentHasher) {
        self.backend = backend
        self.handle = handle
        self.partSize = max(backend.preferredPartSize, backend.minimumPartSize)
        self.offset = offset
        self.parts = parts
        self.hasher = hasher
        self.pending = ByteBuffer()
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
                let full = pending
                pending = allocator.buffer(capacity: partSize)
                try await flush(full)
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

    private mutating func flush(_ part: ByteBuffer) async throws {
        let backend = self.backend
        let handle = self.handle
        let number = (parts.last?.number ?? 0) + 1
        let offset = self.offset
        async let receipt = backend.appendPart(handle, number: number, offset: offset, data: part)
        hasher.update(part)
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
