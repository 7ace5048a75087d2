#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CKuraSystem
import NIOCore

/// Thin, throwing wrappers over the POSIX calls the filesystem backend makes. Every call
/// retries on `EINTR` and reports the path on failure.
enum POSIXFile {
    static func open(_ path: String, _ flags: CInt, mode: mode_t = 0o644) throws(StorageError) -> CInt {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw .io(operation: "open", path: path, errno: errno) }
        }
    }

    /// Opens a file that may be missing: `nil` when it (or a parent) does not exist.
    static func openIfExists(_ path: String, _ flags: CInt) throws(StorageError) -> CInt? {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC)
            if fd >= 0 { return fd }
            if errno == ENOENT || errno == ENOTDIR { return nil }
            if errno != EINTR { throw .io(operation: "open", path: path, errno: errno) }
        }
    }

    static func close(_ fd: CInt) {
        _ = Glibc.close(fd)
    }

    /// Writes all readable bytes of `buffer` at `offset`.
    static func pwriteAll(_ fd: CInt, _ buffer: ByteBuffer, at offset: Int64, path: String) throws(StorageError) {
        let result: Int32? = buffer.withUnsafeReadableBytes { raw -> Int32? in
            var done = 0
            while done < raw.count {
                let n = Glibc.pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return nil
        }
        if let result { throw .io(operation: "write", path: path, errno: result) }
    }

    /// The most buffers one `pwritev` takes: `IOV_MAX` on Linux and macOS (not imported).
    static let maximumVectors = 1024

    /// Writes `buffers` one after another from `offset`, in as few `pwritev` calls as the
    /// kernel allows (``maximumVectors`` buffers a call; a short write resumes mid-buffer).
    static func pwritevAll(_ fd: CInt, _ buffers: [ByteBuffer], at offset: Int64, path: String) throws(StorageError) {
        if buffers.count == 1 { return try pwriteAll(fd, buffers[0], at: offset, path: path) }
        var position = off_t(offset)
        var next = 0  // the first buffer not yet fully written
        var skip = 0  // how much of it is
        while true {
            while next < buffers.count, buffers[next].readableBytes == skip {
                next += 1
                skip = 0
            }
            if next == buffers.count { return }
            let batch = buffers[next..<min(buffers.count, next + maximumVectors)]
            let written = withIOVectors(batch, skippingFirst: skip) { Glibc.pwritev(fd, $0.baseAddress, CInt($0.count), position) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            if written == 0 { throw .io(operation: "write", path: path, errno: EIO) }
            position += off_t(written)
            var remaining = written
            while remaining > 0 {
                let left = buffers[next].readableBytes - skip
                if remaining < left {
                    skip += remaining
                    break
                }
                remaining -= left
                next += 1
                skip = 0
            }
        }
    }

    /// Calls `body` with iovecs over the readable bytes of `buffers`, less the first `skip`
    /// bytes of the first; each buffer's storage is retained until `body` returns.
    private static func withIOVectors<Result>(
        _ buffers: ArraySlice<ByteBuffer>, skippingFirst skip: Int, _ body: (UnsafeBufferPointer<iovec>) -> Result
    ) -> Result {
        withUnsafeTemporaryAllocation(of: iovec.self, capacity: buffers.count) { vectors in
            withUnsafeTemporaryAllocation(of: Unmanaged<AnyObject>.self, capacity: buffers.count) { storages in
                for (index, buffer) in buffers.enumerated() {
                    buffer.withUnsafeReadableBytesWithStorageManagement { raw, storage in
                        let start = index == 0 ? skip : 0
                        storages[index] = storage.retain()
                        vectors[index] = iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress.map { $0 + start }), iov_len: raw.count - start)
                    }
                }
                defer { for index in 0..<buffers.count { storages[index].release() } }
                return body(UnsafeBufferPointer(vectors))
            }
        }
    }

    /// Reads up to `count` bytes at `offset` into a new buffer; short only at end of file.
    static func pread(_ fd: CInt, count: Int, at offset: Int64, allocator: ByteBufferAllocator, path: String)
        throws(StorageError) -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: count)
        try pread(fd, count: count, at: offset, into: &buffer, path: path)
        return buffer
    }

    /// Reads up to `count` bytes at `offset` onto the end of `buffer` (fewer only at the end
    /// of the file). Writes in place when `buffer` is the only owner of its storage and has
    /// room, so a caller that keeps its buffers reads without allocating.
    static func pread(_ fd: CInt, count: Int, at offset: Int64, into buffer: inout ByteBuffer, path: String) throws(StorageError) {
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw -> Int in
            var done = 0
            while done < count {
                let n = Glibc.pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return 0
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
        if failure != 0 { throw .io(operation: "read", path: path, errno: failure) }
    }

    static func fdatasync(_ fd: CInt, path: String) throws(StorageError) {
        while Glibc.fdatasync(fd) != 0 {
            if errno != EINTR { throw .io(operation: "fdatasync", path: path, errno: errno) }
        }
    }

    /// Asks the kernel to start writing a range to disk now (Linux `sync_file_range` with
    /// `SYNC_FILE_RANGE_WRITE`), without waiting. The `fdatasync` before publishing then
    /// finds most bytes already on disk, so the disk works while the client is still sending
    /// instead of after it. Advisory: errors surface at that `fdatasync`.
    static func startWriteback(_ fd: CInt, offset: Int64, length: Int64) {
        #if os(Linux)
        _ = sync_file_range(fd, offset, length, KURA_SYNC_FILE_RANGE_WRITE)
        #endif
    }

    static func fsync(_ fd: CInt, path: String) throws(StorageError) {
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw .io(operation: "fsync", path: path, errno: errno) }
        }
    }

    /// `fsync` of a directory, so that a rename or create inside it survives power loss.
    static func syncDirectory(_ path: String) throws(StorageError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    static func rename(_ from: String, _ to: String) throws(StorageError) {
        if Glibc.rename(from, to) != 0 { throw .io(operation: "rename", path: "\(from) -> \(to)", errno: errno) }
    }

    static func truncate(_ fd: CInt, to size: Int64, path: String) throws(StorageError) {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw .io(operation: "ftruncate", path: path, errno: errno) }
        }
    }

    /// Removes a file; returns whether it existed.
    static func unlink(_ path: String) throws(StorageError) -> Bool {
        if Glibc.unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .io(operation: "unlink", path: path, errno: errno)
    }

    /// Removes `path` if it is an empty directory; a missing or non-empty one is left as is.
    static func removeEmptyDirectory(_ path: String) throws(StorageError) {
        if Glibc.rmdir(path) == 0 || errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST { return }
        throw .io(operation: "rmdir", path: path, errno: errno)
    }

    static func stat(_ path: String) throws(StorageError) -> Glibc.stat? {
        var st: Glibc.stat = .init()
        if fstatat(AT_FDCWD, path, &st, 0) == 0 { return st }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw .io(operation: "stat", path: path, errno: errno)
    }

    static func fstat(_ fd: CInt, path: String) throws(StorageError) -> Glibc.stat {
        var st: Glibc.stat = .init()
        if Glibc.fstat(fd, &st) != 0 { throw .io(operation: "fstat", path: path, errno: errno) }
        return st
    }

    /// `mkdir -p`; returns the directories it created, outermost first, so their parents
    /// can be synced. Starts at the deepest directory: the usual case, a folder that is
    /// already there, costs one `mkdir` instead of one per component.
    @discardableResult
    static func makeDirectories(_ path: String) throws(StorageError) -> [String] {
        var created: [String] = []
        try makeDirectory(path, recordingIn: &created)
        return created
    }

    private static func makeDirectory(_ path: String, recordingIn created: inout [String]) throws(StorageError) {
        guard !path.isEmpty, path != "/" else { return }
        if Glibc.mkdir(path, 0o755) == 0 {
            created.append(path)
            return
        }
        switch errno {
        case EEXIST:
            return
        case ENOENT:
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            try makeDirectory(parent, recordingIn: &created)
            if Glibc.mkdir(path, 0o755) == 0 {
                created.append(path)
            } else if errno != EEXIST {
                throw .io(operation: "mkdir", path: path, errno: errno)
            }
        default:
            throw .io(operation: "mkdir", path: path, errno: errno)
        }
    }
}
