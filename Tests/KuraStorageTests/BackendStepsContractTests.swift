import KuraCore
import KuraStorage
import NIOCore
import Testing

/// The contract of the combined steps of ``ObjectBackend`` (one commit, one clean-up, small
/// whole objects), run against every backend: a backend's own one-step version must give
/// the same results as the default sequence of single steps.
@Suite("ObjectBackend combined steps", .timeLimit(.minutes(3)))
struct BackendStepsContractTests {
    /// Appends `bytes` in parts of the backend's minimum size and syncs them.
    private func assemble(_ backend: any ObjectBackend, _ key: ObjectKey, _ bytes: [UInt8]) async throws
        -> (AppendHandle, [AppendedPart])
    {
        let handle = try await backend.beginAppend(key)
        let partSize = max(1024, backend.minimumPartSize)
        var parts: [AppendedPart] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + partSize)
            parts.append(
                try await backend.appendPart(
                    handle, number: parts.count + 1, offset: Int64(offset), data: ByteBuffer(bytes: bytes[offset..<end])))
            offset = end
        }
        try await backend.syncAppend(handle)
        return (handle, parts)
    }

    @Test(arguments: BackendFixture.all)
    func completingAndPublishingLeavesOnlyTheTarget(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let bytes = testBytes(2 * max(1024, backend.minimumPartSize) + 5)
            let staged = try ObjectKey("uploads/c1/data")
            let target = try ObjectKey("blobs/sha256/c1/final")
            let (handle, parts) = try await assemble(backend, staged, bytes)
            let outcome = try await backend.completeAppend(handle, parts: parts, size: Int64(bytes.count), publishingAs: target)
            #expect(outcome == .created)
            #expect(try await collect(backend.get(target, range: nil).body) == bytes)
            #expect(try await backend.stat(staged) == nil)
            #expect(try await backend.list(prefix: "uploads/", startAfter: nil, limit: 10).objects.isEmpty)
        }
    }

    @Test(arguments: BackendFixture.all)
    func anAssemblyOfStoredContentIsDiscarded(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let bytes = testBytes(3000, seed: 4)
            let target = try ObjectKey("blobs/sha256/c2/final")
            try await backend.put(target, bytes: ByteBuffer(bytes: bytes))
            let staged = try ObjectKey("uploads/c2/data")
            let (handle, parts) = try await assemble(backend, staged, bytes)
            let outcome = try await backend.completeAppend(handle, parts: parts, size: Int64(bytes.count), publishingAs: target)
            #expect(outcome == .alreadyExisted)
            #expect(try await backend.stat(staged) == nil)
            #expect(try await collect(backend.get(target, range: nil).body) == bytes)
        }
    }

    @Test(arguments: BackendFixture.all)
    func anAssemblyCompletedByAnEarlierAttemptIsPublished(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let bytes = testBytes(4000, seed: 5)
            let staged = try ObjectKey("uploads/c3/data")
            let target = try ObjectKey("blobs/sha256/c3/final")
            let (handle, parts) = try await assemble(backend, staged, bytes)
            // The earlier attempt got as far as completing, then failed before publishing.
            try await backend.completeAppend(handle, parts: parts, size: Int64(bytes.count))
            let outcome = try await backend.completeAppend(handle, parts: parts, size: Int64(bytes.count), publishingAs: target)
            #expect(outcome == .created)
            #expect(try await collect(backend.get(target, range: nil).body) == bytes)
            #expect(try await backend.stat(staged) == nil)
        }
    }

    @Test(arguments: BackendFixture.all)
    func deleteAllTakesTheKeysAndToleratesMissingOnes(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let kept = try ObjectKey("uploads/d1/kept")
            let gone = [try ObjectKey("uploads/d1/state"), try ObjectKey("uploads/d1/tail-5")]
            for key in gone + [kept] { try await backend.put(key, bytes: ByteBuffer(bytes: [1, 2, 3])) }
            try await backend.deleteAll(gone + [ObjectKey("uploads/d1/never")], removingEmptyFolder: "uploads/d1/")
            for key in gone { #expect(try await backend.stat(key) == nil) }
            // The folder is not empty: it stays, and so does what is in it.
            #expect(try await backend.stat(kept)?.size == 3)
            try await backend.deleteAll([kept], removingEmptyFolder: "uploads/d1/")
            #expect(try await backend.list(prefix: "uploads/", startAfter: nil, limit: 10).objects.isEmpty)
        }
    }

    @Test(arguments: BackendFixture.all)
    func smallObjectsRoundTripWithinTheirLimit(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("uploads/s1/state")
            let bytes = testBytes(10_000, seed: 6)
            #expect(try await backend.put(key, bytes: ByteBuffer(bytes: bytes)) == 10_000)
            #expect(Array(buffer: try await backend.getAll(key, limit: 10_000)) == bytes)
            // Replaced whole, never in place.
            try await backend.put(key, bytes: ByteBuffer(bytes: [7]))
            #expect(Array(buffer: try await backend.getAll(key, limit: 10_000)) == [7])
            await #expect(throws: (any Error).self) { try await backend.getAll(key, limit: 0) }
            await #expect(throws: StorageError.notFound(try ObjectKey("uploads/s1/none"))) {
                try await backend.getAll(ObjectKey("uploads/s1/none"), limit: 10)
            }
        }
    }
}
