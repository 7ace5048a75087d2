import Foundation
import Glibc
@testable import KuraStorage
import NIOCore
import Testing

/// A filesystem read offers its open file for `sendfile`; a descriptor for it is handed out
/// only while the file still holds the bytes being read.
@Suite("Open file range")
struct OpenFileRangeTests {
    @Test func aReadOffersItsFileAndADuplicateReadsTheSameBytes() async throws {
        try await withTemporaryDirectory { root in
            let backend = try FileSystemBackend(root: root)
            let key = try ObjectKey("blob")
            let bytes = testBytes(10_000, seed: 3)
            _ = try await backend.put(key, bytes: ByteBuffer(bytes: bytes))
            let read = try await backend.get(key, range: 100..<5000)
            let file = try #require(read.file)
            #expect(file.range == 100..<5000)
            let fd = try file.duplicateDescriptor()
            defer { close(fd) }
            // Still the same file after its path is gone (garbage collection removing it).
            _ = try await backend.delete(key)
            var buffer = [UInt8](repeating: 0, count: 4900)
            #expect(pread(fd, &buffer, 4900, 100) == 4900)
            #expect(buffer == Array(bytes[100..<5000]))
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "not inherited by processes the server starts")
        }
    }

    @Test func aFileCutShortSinceItWasOpenedIsRefused() async throws {
        try await withTemporaryDirectory { root in
            let backend = try FileSystemBackend(root: root)
            let key = try ObjectKey("blob")
            _ = try await backend.put(key, bytes: ByteBuffer(bytes: testBytes(10_000, seed: 4)))
            let read = try await backend.get(key, range: nil)
            let file = try #require(read.file)
            #expect(truncate(backend.path(of: key), 6000) == 0)
            #expect(throws: StorageError.self) { _ = try file.duplicateDescriptor() }
        }
    }
}
