import Foundation
import KuraCore
import KuraStorage
import NIOCore
import Testing

/// An ended upload session leaves no folder behind on a filesystem: neither
/// `uploads/<id>/` nor its staging twin `.append/uploads/<id>/` (issue 19: 16 uploads left
/// 16 + 16 empty folders).
@Suite("Upload folders")
struct UploadFolderTests {
    /// Every folder under `root/uploads` and `root/.append/uploads`, relative to `root`.
    private func uploadFolders(under root: String) -> [String] {
        ["uploads", ".append/uploads"].flatMap { base in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(base)")) ?? []).map { "\(base)/\($0)" }
        }
    }

    @Test func committedAndCancelledSessionsLeaveNoFolders() async throws {
        try await withTemporaryDirectory { root in
            let store = BlobStore(backend: try FileSystemBackend(root: root, durability: .none))
            for seed in 0..<4 {
                let bytes = testBytes(100_000, seed: UInt64(seed + 10))
                let id = try await store.startUpload().id
                _ = try await store.appendUpload(id, at: 0, body: ChunkedBody(bytes))
                #expect(!uploadFolders(under: root).isEmpty, "a session in progress has its folders")
                _ = try await store.commitUpload(id, expected: sha256(bytes), lastChunk: Optional<ChunkedBody>.none)
            }
            // Committed as another algorithm than the one hashed while streaming.
            let other = testBytes(10_000, seed: 99)
            let crossID = try await store.startUpload().id
            _ = try await store.appendUpload(crossID, at: 0, body: ChunkedBody(other))
            _ = try await store.commitUpload(crossID, expected: ContentHasher.digest(.sha512, of: other), lastChunk: Optional<ChunkedBody>.none)
            // Cancelled (also what GC's upload expiry does).
            let cancelled = try await store.startUpload().id
            _ = try await store.appendUpload(cancelled, at: 0, body: ChunkedBody(testBytes(1000)))
            try await store.cancelUpload(cancelled)
            #expect(uploadFolders(under: root) == [])
        }
    }

    @Test func aFailedCommitKeepsTheSessionAndItsFolder() async throws {
        try await withTemporaryDirectory { root in
            let store = BlobStore(backend: try FileSystemBackend(root: root, durability: .none))
            let bytes = testBytes(5000)
            let id = try await store.startUpload().id
            _ = try await store.appendUpload(id, at: 0, body: ChunkedBody(bytes))
            await #expect(throws: RegistryError.self) {
                _ = try await store.commitUpload(id, expected: sha256(testBytes(5000, seed: 7)), lastChunk: Optional<ChunkedBody>.none)
            }
            #expect(uploadFolders(under: root).contains("uploads/\(id)"))
            #expect(try await store.uploadStatus(id).offset == 5000)
        }
    }
}
