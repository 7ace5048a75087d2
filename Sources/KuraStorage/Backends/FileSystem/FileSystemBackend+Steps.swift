#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
public import NIOCore

// The combined steps of ``ObjectBackend``, each in one trip to the blocking-I/O pool: a
// small upload pays a thread hop per trip (two context switches and a wake-up), which cost
// more server time than its bytes did.
extension FileSystemBackend {
    /// Syncs the staging file and renames it straight to `key` (no stop at the append's own
    /// key): one rename and one directory sync per commit.
    public func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64, publishingAs key: ObjectKey) async throws
        -> PublishOutcome
    {
        let staging = stagingPath(of: handle.key)
        let completed = path(of: handle.key)
        let target = path(of: key)
        let durability = self.durability
        return try await BlockingIO.run { () throws -> PublishOutcome in
            if let st = try POSIXFile.stat(target), (st.st_mode & S_IFMT) == S_IFREG {
                // Deduplicated: the bytes are already stored.
                _ = try POSIXFile.unlink(staging)
                _ = try POSIXFile.unlink(completed)
                return .alreadyExisted
            }
            if try finishStaging(staging, of: handle.key, size: size, durability: durability) {
                try moveIntoPlace(staging, target)
                return .created
            }
            // An earlier attempt completed the assembly (synced) and failed before publishing.
            guard let st = try POSIXFile.stat(completed), (st.st_mode & S_IFMT) == S_IFREG, Int64(st.st_size) == size else {
                throw StorageError.notFound(handle.key)
            }
            try moveIntoPlace(completed, target)
            return .created
        }
    }

    public func deleteAll(_ keys: [ObjectKey], removingEmptyFolder prefix: String) async throws {
        let folders = try folders(of: prefix)
        let paths = keys.map { path(of: $0) }
        try await BlockingIO.run {
            for path in paths { _ = try POSIXFile.unlink(path) }
            for folder in folders { try POSIXFile.removeEmptyDirectory(folder) }
        }
    }

    /// Writes a temporary file, syncs it and renames it over the key, in one trip.
    @discardableResult
    public func put(_ key: ObjectKey, bytes: ByteBuffer) async throws -> Int64 {
        let temporary = "\(root)/.tmp/\(UUID().uuidString)"
        let target = path(of: key)
        let durability = self.durability
        try await BlockingIO.run {
            let fd = try POSIXFile.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
            defer { POSIXFile.close(fd) }
            do {
                try POSIXFile.pwriteAll(fd, bytes, at: 0, path: temporary)
                if durability == .fsync { try POSIXFile.fdatasync(fd, path: temporary) }
                try moveIntoPlace(temporary, target)
            } catch {
                _ = try? POSIXFile.unlink(temporary)
                throw error
            }
        }
        return Int64(bytes.readableBytes)
    }

    /// Opens, sizes and reads a small object in one trip.
    public func getAll(_ key: ObjectKey, limit: Int) async throws -> ByteBuffer {
        let path = path(of: key)
        let allocator = self.allocator
        return try await BlockingIO.run { () throws -> ByteBuffer in
            guard let fd = try POSIXFile.openIfExists(path, O_RDONLY) else { throw StorageError.notFound(key) }
            defer { POSIXFile.close(fd) }
            let size = Int64(try POSIXFile.fstat(fd, path: path).st_size)
            guard size <= limit else { throw StorageError.backend("object \(key) is larger than \(limit) bytes") }
            let bytes = try POSIXFile.pread(fd, count: Int(size), at: 0, allocator: allocator, path: path)
            guard bytes.readableBytes == size else { throw StorageError.backend("\(path) shrank while being read") }
            return bytes
        }
    }
}
