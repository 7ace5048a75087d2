import Foundation
import KuraCore
import KuraStorage
import NIOCore
import Testing

@Suite("BlobStore")
struct BlobStoreTests {
    private func makeStore(_ root: String, hooks: BlobStore.Hooks = .init()) throws -> BlobStore {
        BlobStore(backend: try FileSystemBackend(root: root), hooks: hooks)
    }

    @Test func verifiedIngestStoresUnderTheDigest() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(3_000_000)
            let info = try await store.ingest(ChunkedBody(bytes, pieceSize: 70_000), expected: sha256(bytes))
            #expect(info == BlobInfo(digest: sha256(bytes), size: 3_000_000))
            #expect(try await store.stat(sha256(bytes))?.size == 3_000_000)
            #expect(try await collect(store.read(sha256(bytes)).body) == bytes)
            let path = "\(root)/blobs/sha256/\(sha256(bytes).encoded.prefix(2))/\(sha256(bytes).encoded)"
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func aFlippedByteIsRefusedAndNothingIsStored() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let original = testBytes(500_000)
            var flipped = original
            flipped[123_456] ^= 0x01
            let error = await #expect(throws: RegistryError.self) {
                try await store.ingest(ChunkedBody(flipped), expected: sha256(original))
            }
            #expect(error?.code == .digestInvalid)
            #expect(try await store.stat(sha256(original)) == nil)
            #expect(try await store.stat(sha256(flipped)) == nil)
            #expect(regularFiles(under: root).isEmpty)
        }
    }

    @Test func wrongLengthIsRefused() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(1000)
            let error = await #expect(throws: RegistryError.self) {
                try await store.ingest(ChunkedBody(bytes), expected: sha256(bytes), expectedLength: 999)
            }
            #expect(error?.code == .sizeInvalid)
            #expect(try await store.stat(sha256(bytes)) == nil)
        }
    }

    @Test func identicalContentIsStoredOnce() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(200_000)
            let a = try await store.ingest(ChunkedBody(bytes, pieceSize: 1000))
            let b = try await store.ingest(ChunkedBody(bytes, pieceSize: 77_777))
            #expect(a == b)
            #expect(regularFiles(under: root) == ["blobs/sha256/\(a.digest.encoded.prefix(2))/\(a.digest.encoded)"])
        }
    }

    @Test func rangedReadsAtTheEdges() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(5000)
            let info = try await store.ingest(ChunkedBody(bytes))
            let last = try await store.read(info.digest, range: 4999..<5000)
            #expect(last.size == 5000)
            #expect(try await collect(last.body) == [bytes[4999]])
            #expect(try await collect(store.read(info.digest, range: 0..<1).body) == [bytes[0]])
            let error = await #expect(throws: RegistryError.self) { try await store.read(info.digest, range: 5000..<5001) }
            #expect(error?.code == .rangeInvalid)
            let unknown = await #expect(throws: RegistryError.self) { try await store.read(sha256([1]), range: nil) }
            #expect(unknown?.code == .blobUnknown)
        }
    }

    @Test func chunkedUploadCommitsTheRightDigest() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(2_500_000)
            let session = try await store.startUpload()
            #expect(session.offset == 0)
            var offset = 0
            for size in [1, 1_048_576, 333_333, 1_118_090] {
                let status = try await store.appendUpload(
                    session.id, at: Int64(offset), expectedLength: Int64(size),
                    body: ChunkedBody(Array(bytes[offset..<offset + size]), pieceSize: 65_536))
                offset += size
                #expect(status.offset == Int64(offset))
            }
            #expect(try await store.uploadStatus(session.id).offset == 2_500_000)
            let info = try await store.commitUpload(session.id, expected: sha256(bytes), lastChunk: ChunkedBody([]))
            #expect(info.size == 2_500_000)
            #expect(try await collect(store.read(sha256(bytes)).body) == bytes)
            let gone = await #expect(throws: RegistryError.self) { try await store.uploadStatus(session.id) }
            #expect(gone?.code == .blobUploadUnknown)
            // Nothing is left of the session.
            #expect(regularFiles(under: root).allSatisfy { $0.hasPrefix("blobs/") })
        }
    }

    @Test func unevenPiecesAreStoredExactly() async throws {
        // Tiny pieces (copied together), pieces around the small-chunk bound, and pieces
        // larger than a part, crossing part boundaries in every way; then a session resumed
        // with a last chunk of a single byte.
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(3_300_001, seed: 7)
            let sizes = [1, 7, 100, 32_767, 32_768, 40_000, 3, 300_000, 1_500_000, 65_536, 2, 33_000]
            let session = try await store.startUpload()
            let status = try await store.appendUpload(session.id, body: ChunkedBody(Array(bytes.dropLast()), pieceSizes: sizes))
            #expect(status.offset == Int64(bytes.count - 1))
            let info = try await store.commitUpload(session.id, expected: sha256(bytes), lastChunk: ChunkedBody(Array(bytes.suffix(1))))
            #expect(info.size == Int64(bytes.count))
            #expect(try await collect(store.read(sha256(bytes)).body) == bytes)
            // And a body of a hundred thousand one-byte pieces.
            let small = testBytes(100_000, seed: 8)
            let second = try await store.startUpload()
            _ = try await store.appendUpload(second.id, body: ChunkedBody(small, pieceSize: 1))
            _ = try await store.commitUpload(second.id, expected: sha256(small), lastChunk: ChunkedBody([]))
            #expect(try await collect(store.read(sha256(small)).body) == small)
        }
    }

    @Test func aSessionSurvivesARestart() async throws {
        try await withTemporaryDirectory { root in
            let bytes = testBytes(1_500_000)
            let id: UploadID
            do {
                let first = try makeStore(root)
                id = try await first.startUpload().id
                _ = try await first.appendUpload(id, at: 0, body: ChunkedBody(Array(bytes[..<700_001])))
                // The client disconnects in the middle of the next chunk.
                await #expect(throws: FailingBody.Disconnected.self) {
                    _ = try await first.appendUpload(id, at: 700_001, body: FailingBody(bytes: Array(bytes[700_001..<800_000])))
                }
            }
            // A new process over the same folder continues where the acknowledged bytes end.
            let second = try makeStore(root)
            #expect(try await second.uploadStatus(id).offset == 700_001)
            _ = try await second.appendUpload(id, at: 700_001, body: ChunkedBody(Array(bytes[700_001...])))
            let info = try await second.commitUpload(id, expected: sha256(bytes), lastChunk: Optional<ChunkedBody>.none)
            #expect(info.digest == sha256(bytes))
            #expect(try await collect(second.read(sha256(bytes)).body) == bytes)
        }
    }

    @Test func aChunkAtTheWrongOffsetChangesNothing() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(10_000)
            let id = try await store.startUpload().id
            _ = try await store.appendUpload(id, at: 0, body: ChunkedBody(Array(bytes[..<4000])))
            for wrong: Int64 in [0, 3999, 4001, 9000] {
                let error = await #expect(throws: RegistryError.self) {
                    _ = try await store.appendUpload(id, at: wrong, body: ChunkedBody(Array(bytes[4000...])))
                }
                #expect(error?.code == .rangeInvalid)
            }
            let badLength = await #expect(throws: RegistryError.self) {
                _ = try await store.appendUpload(id, at: 4000, expectedLength: 10, body: ChunkedBody(Array(bytes[4000...])))
            }
            #expect(badLength?.code == .sizeInvalid)
            #expect(try await store.uploadStatus(id).offset == 4000)
            _ = try await store.appendUpload(id, at: 4000, body: ChunkedBody(Array(bytes[4000...])))
            #expect(try await store.commitUpload(id, expected: sha256(bytes), lastChunk: Optional<ChunkedBody>.none).size == 10_000)
        }
    }

    @Test func aCommitWithTheWrongDigestShowsNothing() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(50_000)
            let wrong = sha256(Array(bytes.dropLast()))
            let id = try await store.startUpload().id
            _ = try await store.appendUpload(id, at: 0, body: ChunkedBody(Array(bytes[..<30_000])))
            let error = await #expect(throws: RegistryError.self) {
                try await store.commitUpload(id, expected: wrong, lastChunk: ChunkedBody(Array(bytes[30_000...])))
            }
            #expect(error?.code == .digestInvalid)
            #expect(try await store.stat(wrong) == nil)
            #expect(try await store.stat(sha256(bytes)) == nil)
            #expect(regularFiles(under: root).allSatisfy { !$0.hasPrefix("blobs/") })
            // The session is as it was before the failed commit, and can still finish.
            #expect(try await store.uploadStatus(id).offset == 30_000)
            let info = try await store.commitUpload(id, expected: sha256(bytes), lastChunk: ChunkedBody(Array(bytes[30_000...])))
            #expect(try await collect(store.read(info.digest).body) == bytes)
        }
    }

    @Test func aCrashBeforePublishLeavesNoVisibleBlob() async throws {
        struct Crash: Error {}
        try await withTemporaryDirectory { root in
            let bytes = testBytes(400_000)
            let crashing = try makeStore(root, hooks: .init(beforePublish: { _ in throw Crash() }))
            let id = try await crashing.startUpload().id
            _ = try await crashing.appendUpload(id, at: 0, body: ChunkedBody(bytes))
            await #expect(throws: Crash.self) {
                try await crashing.commitUpload(id, expected: sha256(bytes), lastChunk: Optional<ChunkedBody>.none)
            }
            // The data is complete and synced, but not under the digest.
            let restarted = try makeStore(root)
            #expect(try await restarted.stat(sha256(bytes)) == nil)
            #expect(!regularFiles(under: root).contains { $0.hasPrefix("blobs/") })
            // The session is still there and commits on retry.
            #expect(try await restarted.uploadStatus(id).offset == 400_000)
            let info = try await restarted.commitUpload(id, expected: sha256(bytes), lastChunk: Optional<ChunkedBody>.none)
            #expect(try await collect(restarted.read(info.digest).body) == bytes)

            // Monolithic ingest: the same crash leaves nothing behind at all.
            let other = testBytes(10_000, seed: 9)
            await #expect(throws: Crash.self) { try await crashing.ingest(ChunkedBody(other)) }
            #expect(try await restarted.stat(sha256(other)) == nil)
        }
    }

    @Test func concurrentCommitsOfTheSameDigestLeaveOneObject() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(1_200_000)
            var ids: [UploadID] = []
            for _ in 0..<8 {
                let id = try await store.startUpload().id
                _ = try await store.appendUpload(id, at: 0, body: ChunkedBody(bytes, pieceSize: 100_000))
                ids.append(id)
            }
            let results = try await withThrowingTaskGroup(of: BlobInfo.self) { group in
                for id in ids {
                    group.addTask {
                        try await store.commitUpload(id, expected: sha256(bytes), lastChunk: Optional<ChunkedBody>.none)
                    }
                }
                // Monolithic ingests of the same content race with them.
                for _ in 0..<4 { group.addTask { try await store.ingest(ChunkedBody(bytes)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 12)
            #expect(Set(results) == [BlobInfo(digest: sha256(bytes), size: 1_200_000)])
            #expect(regularFiles(under: root) == ["blobs/sha256/\(sha256(bytes).encoded.prefix(2))/\(sha256(bytes).encoded)"])
            #expect(try await collect(store.read(sha256(bytes)).body) == bytes)
        }
    }

    @Test func concurrentChunksToOneSessionAreSerialised() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let id = try await store.startUpload().id
            let chunk = testBytes(100_000)
            // Ten clients race to send "the first chunk": exactly one wins, the rest get 416.
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask { (try? await store.appendUpload(id, at: 0, body: ChunkedBody(chunk))) != nil }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await store.uploadStatus(id).offset == 100_000)
        }
    }

    @Test func sha512UploadsAndCrossAlgorithmCommits() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let bytes = testBytes(300_000)
            let expected512 = ContentHasher.digest(.sha512, of: bytes)
            // Hashed as sha512 from the start.
            let a = try await store.startUpload(algorithm: .sha512)
            _ = try await store.appendUpload(a.id, at: 0, body: ChunkedBody(bytes))
            #expect(try await store.commitUpload(a.id, expected: expected512, lastChunk: Optional<ChunkedBody>.none).digest == expected512)
            // Hashed as sha256 while streaming, committed as sha512: re-read once.
            let other = testBytes(300_000, seed: 4)
            let b = try await store.startUpload()
            _ = try await store.appendUpload(b.id, at: 0, body: ChunkedBody(other))
            let info = try await store.commitUpload(
                b.id, expected: ContentHasher.digest(.sha512, of: other), lastChunk: Optional<ChunkedBody>.none)
            #expect(try await collect(store.read(info.digest).body) == other)
            #expect(try await store.stat(sha256(other)) == nil)
        }
    }

    @Test func cancelRemovesTheSession() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let id = try await store.startUpload().id
            _ = try await store.appendUpload(id, at: 0, body: ChunkedBody(testBytes(1000)))
            #expect(try await store.uploads().map(\.id) == [id])
            try await store.cancelUpload(id)
            let error = await #expect(throws: RegistryError.self) { try await store.uploadStatus(id) }
            #expect(error?.code == .blobUploadUnknown)
            #expect(regularFiles(under: root).isEmpty)
            #expect(try await store.uploads().isEmpty)
        }
    }

    @Test func corruptSessionStateIsReportedNotTrusted() async throws {
        try await withTemporaryDirectory { root in
            let store = try makeStore(root)
            let id = try await store.startUpload().id
            _ = try await store.appendUpload(id, at: 0, body: ChunkedBody(testBytes(1000)))
            let statePath = "\(root)/uploads/\(id)/state"
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as! [String: Any]
            json["offset"] = 999
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: statePath))
            await #expect(throws: StorageError.self) {
                _ = try await store.appendUpload(id, at: 999, body: ChunkedBody([1]))
            }
        }
    }

    @Test func uploadIDsAreValidated() {
        #expect(UploadID("../../etc/passwd") == nil)
        #expect(UploadID("not-a-uuid") == nil)
        let id = UploadID()
        #expect(UploadID(id.value) == id)
    }
}
