public import NIOCore

// The defaults of the requirements that combine several steps (``ObjectBackend``): each is
// the plain sequence of the single steps. A backend that can do the whole in fewer round
// trips (the filesystem: one trip to the blocking-I/O pool instead of four) implements
// its own; the shared contract suite holds both to the same results.
extension ObjectBackend {
    public func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64, publishingAs key: ObjectKey) async throws
        -> PublishOutcome
    {
        if let existing = try await stat(key), existing.size == size {
            try await abortAppend(handle)  // deduplicated: the bytes are already stored
            return .alreadyExisted
        }
        // An earlier attempt may have completed the assembly and failed before publishing.
        if try await stat(handle.key)?.size != size {
            try await completeAppend(handle, parts: parts, size: size)
        }
        return try await publish(handle.key, to: key)
    }

    public func deleteAll(_ keys: [ObjectKey], removingEmptyFolder prefix: String) async throws {
        for key in keys { _ = try await delete(key) }
        try await removeEmptyFolder(prefix: prefix)
    }

    @discardableResult
    public func put(_ key: ObjectKey, bytes: ByteBuffer) async throws -> Int64 {
        try await put(key, body: SingleBufferSequence(buffer: bytes))
    }

    public func getAll(_ key: ObjectKey, limit: Int) async throws -> ByteBuffer {
        let read = try await get(key, range: nil)
        guard read.size <= limit else { throw StorageError.backend("object \(key) is larger than \(limit) bytes") }
        var result = ByteBuffer()
        for try await chunk in read.body { result.writeImmutableBuffer(chunk) }
        return result
    }
}
