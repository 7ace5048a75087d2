#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte range of an open regular file: what a caller needs to have the kernel copy the
/// bytes to a socket (`sendfile`) without reading them into memory first.
///
/// The file stays open as long as this value (or the read it came with) is held; a caller
/// that hands the bytes to another owner, such as an event loop finishing the send after
/// the request's task moved on, takes its own descriptor with ``duplicateDescriptor()``.
public struct OpenFileRange: Sendable {
    let file: OwnedDescriptor
    let path: String
    /// The bytes of the file that the read covers.
    public let range: Range<Int64>

    init(file: OwnedDescriptor, path: String, range: Range<Int64>) {
        self.file = file
        self.path = path
        self.range = range
    }

    /// A new descriptor for the same open file (`F_DUPFD_CLOEXEC`, so the same file even if
    /// its path was replaced or removed since), owned by the caller, who must close it.
    ///
    /// Throws if the file no longer holds the range: `sendfile` past the end of a file sends
    /// nothing and reports no error, and a sender waiting for the rest would wait forever.
    /// (Blobs are written once and never change; a shorter file means damage on disk.)
    public func duplicateDescriptor() throws -> CInt {
        let duplicate = fcntl(file.fd, F_DUPFD_CLOEXEC, 0)
        guard duplicate >= 0 else { throw StorageError.io(operation: "dup", path: path, errno: errno) }
        let size: Int64
        do { size = Int64(try POSIXFile.fstat(duplicate, path: path).st_size) } catch {
            POSIXFile.close(duplicate)
            throw error
        }
        guard size >= range.upperBound else {
            POSIXFile.close(duplicate)
            throw StorageError.backend("\(path) holds \(size) bytes, fewer than the \(range.upperBound) being read")
        }
        return duplicate
    }
}

/// A file descriptor closed when the last reference goes away.
final class OwnedDescriptor: Sendable {
    let fd: CInt
    init(_ fd: CInt) { self.fd = fd }
    deinit { POSIXFile.close(fd) }
}
