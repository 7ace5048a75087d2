#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation

/// Free space, and the leftovers of writes a crash interrupted: `ROOT/.tmp/<uuid>` (a `put`)
/// and `ROOT/.append/<key>` (an assembly whose session or ingest never finished).
extension FileSystemBackend {
    public func availableBytes() async throws -> Int64? {
        let root = self.root
        return try await BlockingIO.run {
            var stats = statvfs()
            guard statvfs(root, &stats) == 0 else { throw StorageError.io(operation: "statvfs", path: root, errno: errno) }
            // Saturating: a huge file system must not trap the readiness check.
            let (bytes, overflow) = Int64(clamping: stats.f_bavail).multipliedReportingOverflow(by: Int64(clamping: stats.f_frsize))
            return overflow ? .max : bytes
        }
    }

    public func reclaimStaging(touchedBefore cutoff: Date, keep: @escaping @Sendable (ObjectKey) -> Bool) async throws -> StagingReclaimed {
        let root = self.root
        return try await BlockingIO.run {
            var reclaimed = StagingReclaimed()
            for area in [".tmp", ".append"] {
                let base = "\(root)/\(area)"
                guard let walker = FileManager.default.enumerator(atPath: base) else { continue }
                while let relative = walker.nextObject() as? String {
                    let path = "\(base)/\(relative)"
                    guard let st = try POSIXFile.stat(path), (st.st_mode & S_IFMT) == S_IFREG else { continue }
                    guard Date(timespec: st.st_mtim) < cutoff else { continue }
                    // Under .append the path is the key being assembled.
                    if area == ".append", let key = try? ObjectKey(relative), keep(key) { continue }
                    if try POSIXFile.unlink(path) {
                        reclaimed.files += 1
                        reclaimed.bytes += Int64(st.st_size)
                    }
                }
            }
            return reclaimed
        }
    }
}
