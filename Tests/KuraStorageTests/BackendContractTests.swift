import KuraCore
import KuraStorage
import NIOCore
import Testing

/// The contract of ``ObjectBackend``, run against every backend in ``BackendFixture/all``.
@Suite("ObjectBackend contract", .timeLimit(.minutes(3)))
struct BackendContractTests {
    @Test(arguments: BackendFixture.all)
    func putThenGetReturnsTheSameBytes(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("things/a")
            let bytes = testBytes(300_000)
            let written = try await backend.put(key, body: ChunkedBody(bytes, pieceSize: 65_536))
            #expect(written == 300_000)
            let read = try await backend.get(key, range: nil)
            #expect(read.size == 300_000)
            #expect(read.range == 0..<300_000)
            #expect(try await collect(read.body) == bytes)
            let info = try #require(try await backend.stat(key))
            #expect(info.size == 300_000)
            #expect(info.key == key)
        }
    }

    @Test(arguments: BackendFixture.all)
    func emptyObjectsWork(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("empty")
            try await backend.put(key, bytes: ByteBuffer())
            let read = try await backend.get(key, range: nil)
            #expect(read.size == 0)
            #expect(try await collect(read.body).isEmpty)
        }
    }

    @Test(arguments: BackendFixture.all)
    func rangedReadsAtTheEdges(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("ranged")
            let bytes = testBytes(10_000)
            try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
            for range: Range<Int64> in [0..<1, 9_999..<10_000, 0..<10_000, 1..<9_999, 4_096..<8_192] {
                let read = try await backend.get(key, range: range)
                #expect(read.range == range)
                #expect(read.size == 10_000)
                #expect(try await collect(read.body) == Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
            }
            for bad: Range<Int64> in [10_000..<10_001, 5..<10_001, 20_000..<30_000, 3..<3] {
                await #expect(throws: StorageError.rangeNotSatisfiable(size: 10_000)) {
                    _ = try await backend.get(key, range: bad)
                }
            }
        }
    }

    @Test(arguments: BackendFixture.all)
    func missingObjects(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("nothing/here")
            #expect(try await backend.stat(key) == nil)
            await #expect(throws: StorageError.notFound(key)) { _ = try await backend.get(key, range: nil) }
            #expect(try await backend.delete(key) == false)
        }
    }

    @Test(arguments: BackendFixture.all)
    func deleteRemoves(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("d/x")
            try await backend.put(key, bytes: ByteBuffer(bytes: [1, 2, 3]))
            #expect(try await backend.delete(key) == true)
            #expect(try await backend.stat(key) == nil)
        }
    }

    @Test(arguments: BackendFixture.all)
    func putReplacesWholeObjects(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("r")
            try await backend.put(key, bytes: ByteBuffer(bytes: testBytes(5000, seed: 1)))
            try await backend.put(key, bytes: ByteBuffer(bytes: testBytes(70, seed: 2)))
            #expect(try await collect(backend.get(key, range: nil).body) == testBytes(70, seed: 2))
        }
    }

    @Test(arguments: BackendFixture.all)
    func failedPutLeavesNothing(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("broken")
            await #expect(throws: FailingBody.Disconnected.self) {
                try await backend.put(key, body: FailingBody(bytes: testBytes(1000)))
            }
            #expect(try await backend.stat(key) == nil)
            #expect(try await backend.list(prefix: "", startAfter: nil, limit: 100).objects.isEmpty)
        }
    }

    @Test(arguments: BackendFixture.all)
    func listsByPrefixInOrderWithPages(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let names = ["p/b", "p/a", "p/c/d", "p/c/e", "q/z", "pz", "p/aa"]
            for name in names { try await backend.put(try ObjectKey(name), bytes: ByteBuffer(bytes: [1])) }
            let all = try await backend.list(prefix: "p/", startAfter: nil, limit: 100)
            #expect(all.objects.map(\.key.value) == ["p/a", "p/aa", "p/b", "p/c/d", "p/c/e"])
            #expect(all.nextStartAfter == nil)

            let first = try await backend.list(prefix: "p/", startAfter: nil, limit: 2)
            #expect(first.objects.map(\.key.value) == ["p/a", "p/aa"])
            let after = try #require(first.nextStartAfter)
            let second = try await backend.list(prefix: "p/", startAfter: after, limit: 2)
            #expect(second.objects.map(\.key.value) == ["p/b", "p/c/d"])
            let third = try await backend.list(prefix: "p/", startAfter: second.nextStartAfter, limit: 2)
            #expect(third.objects.map(\.key.value) == ["p/c/e"])
            #expect(third.nextStartAfter == nil)

            let partial = try await backend.list(prefix: "p", startAfter: nil, limit: 100)
            #expect(partial.objects.map(\.key.value) == ["p/a", "p/aa", "p/b", "p/c/d", "p/c/e", "pz"])
            var streamed: [String] = []
            for try await object in backend.listAll(prefix: "", pageSize: 3) { streamed.append(object.key.value) }
            #expect(streamed == names.sorted())
        }
    }

    @Test(arguments: BackendFixture.all)
    func appendIsInvisibleUntilCompleted(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("uploads/x/data")
            let handle = try await backend.beginAppend(key)
            // Every part but the last must be at least the backend's minimum (S3: 5 MiB).
            let partSize = max(1024, backend.minimumPartSize)
            let bytes = testBytes(3 * partSize + 17)
            var parts: [AppendedPart] = []
            var offset = 0
            for (number, size) in [partSize, partSize, partSize, 17].enumerated() {
                let part = try await backend.appendPart(
                    handle, number: number + 1, offset: Int64(offset), data: ByteBuffer(bytes: bytes[offset..<offset + size]))
                #expect(part.size == Int64(size))
                parts.append(part)
                offset += size
            }
            try await backend.syncAppend(handle)
            #expect(try await backend.stat(key) == nil)
            #expect(try await backend.list(prefix: "", startAfter: nil, limit: 10).objects.isEmpty)
            try await backend.completeAppend(handle, parts: parts, size: Int64(bytes.count))
            #expect(try await collect(backend.get(key, range: nil).body) == bytes)
        }
    }

    @Test(arguments: BackendFixture.all)
    func aPartGivenInPiecesIsWrittenInOrder(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("uploads/p/data")
            let handle = try await backend.beginAppend(key)
            // More pieces than one gathered write takes, of uneven sizes, filling a first part
            // of at least the backend's minimum; then a last part of one piece.
            let pieceCount = 3 * 64 + 5
            let firstSize = max(pieceCount * 37, backend.minimumPartSize)
            let bytes = testBytes(firstSize + 1000, seed: 3)
            var pieces: [ByteBuffer] = []
            var offset = 0
            for index in 0..<pieceCount {
                let size = index == pieceCount - 1 ? firstSize - offset : min((firstSize / pieceCount) + index % 5, firstSize - offset)
                pieces.append(ByteBuffer(bytes: bytes[offset..<offset + size]))
                offset += size
            }
            #expect(offset == firstSize)
            let first = try await backend.appendPart(handle, number: 1, offset: 0, pieces: pieces)
            #expect(first.size == Int64(firstSize))
            let last = try await backend.appendPart(
                handle, number: 2, offset: Int64(firstSize), pieces: [ByteBuffer(bytes: bytes[firstSize...])])
            #expect(last.size == 1000)
            try await backend.completeAppend(handle, parts: [first, last], size: Int64(bytes.count))
            #expect(try await collect(backend.get(key, range: nil).body) == bytes)
        }
    }

    @Test(arguments: BackendFixture.all)
    func rewritingAPartReplacesIt(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("uploads/y/data")
            let handle = try await backend.beginAppend(key)
            // The first part is not the last: it must be at least the backend's minimum.
            let firstBytes = [UInt8](repeating: 1, count: max(4, backend.minimumPartSize))
            let first = try await backend.appendPart(handle, number: 1, offset: 0, data: ByteBuffer(bytes: firstBytes))
            let end = Int64(firstBytes.count)
            // A failed attempt at part 2 wrote more than it should; the retry replaces it.
            _ = try await backend.appendPart(handle, number: 2, offset: end, data: ByteBuffer(bytes: [9, 9, 9, 9, 9, 9]))
            let second = try await backend.appendPart(handle, number: 2, offset: end, data: ByteBuffer(bytes: [2, 2]))
            try await backend.completeAppend(handle, parts: [first, second], size: end + 2)
            #expect(try await collect(backend.get(key, range: nil).body) == firstBytes + [2, 2])
        }
    }

    @Test(arguments: BackendFixture.all)
    func abortDiscardsAnAppend(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let key = try ObjectKey("uploads/z/data")
            let handle = try await backend.beginAppend(key)
            _ = try await backend.appendPart(handle, number: 1, offset: 0, data: ByteBuffer(bytes: testBytes(100)))
            try await backend.abortAppend(handle)
            #expect(try await backend.stat(key) == nil)
            await #expect(throws: (any Error).self) {
                try await backend.completeAppend(handle, parts: [], size: 100)
            }
        }
    }

    @Test(arguments: BackendFixture.all)
    func publishMovesOnceAndDeduplicates(_ fixture: BackendFixture) async throws {
        try await fixture.with { backend in
            let bytes = testBytes(2048)
            let target = try ObjectKey("blobs/sha256/aa/final")
            let stagedA = try ObjectKey("uploads/a/data")
            let stagedB = try ObjectKey("uploads/b/data")
            try await backend.put(stagedA, bytes: ByteBuffer(bytes: bytes))
            try await backend.put(stagedB, bytes: ByteBuffer(bytes: bytes))
            #expect(try await backend.publish(stagedA, to: target) == .created)
            #expect(try await backend.publish(stagedB, to: target) == .alreadyExisted)
            #expect(try await backend.stat(stagedA) == nil)
            #expect(try await backend.stat(stagedB) == nil)
            #expect(try await collect(backend.get(target, range: nil).body) == bytes)
        }
    }

    @Test func keysCannotEscapeOrNamePrivateFiles() {
        for bad in ["", "/a", "a/", "a//b", "../a", "a/../b", ".tmp/x", "a/.append", "a b", "a\\b", "a\u{0}b"] {
            #expect(throws: StorageError.invalidKey(bad)) { try ObjectKey(bad) }
        }
        #expect((try? ObjectKey("blobs/sha256/ab/ab.c_d-e")) != nil)
    }
}
