#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
public import NIOCore

/// An ``ObjectBackend`` over a local directory.
///
/// An object with key `a/b/c` is the file `ROOT/a/b/c`. Files are never written in place:
/// a `put` writes `ROOT/.tmp/<uuid>` and renames it over the key; an append assembles
/// `ROOT/.append/<key>` and renames it into place on completion. With
/// ``Durability/fsync`` the data is synced before each rename and the directory after
/// it, so an object that was visible once survives a power loss.
public struct FileSystemBackend: ObjectBackend, SubmitsParts {
    public enum Durability: Sendable {
        /// `fdatasync` data before it becomes visible and `fsync` directories after renames.
        case fsync
        /// Leave flushing to the kernel (tests, caches that can be refilled).
        case none
    }

    public let root: String
    public let durability: Durability
    public let readChunkSize: Int
    public var name: String { "filesystem" }
    public var minimumPartSize: Int { 1 }
    /// Half a MiB: a part is held in memory until written, once per concurrent upload,
    /// and a gathered write of half a MiB costs no more per byte than one of a MiB.
    public var preferredPartSize: Int { 512 << 10 }

    let allocator = ByteBufferAllocator()

    /// Opens (and creates) a backend rooted at `root`.
    public init(root: String, durability: Durability = .fsync, readChunkSize: Int = 1 << 20) throws {
        let absolute = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = absolute
        self.durability = durability
        self.readChunkSize = readChunkSize
        try POSIXFile.makeDirectories(absolute + "/.tmp")
        try POSIXFile.makeDirectories(absolute + "/.append")
    }

    /// The file that holds `key`. Exposed so the HTTP layer can send it with `sendfile`.
    public func path(of key: ObjectKey) -> String { "\(root)/\(key.value)" }

    func stagingPath(of key: ObjectKey) -> String { "\(root)/.append/\(key.value)" }

    func parent(of path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    /// Creates the parent directories of `path`, syncing each new directory's parent.
    private func prepareParent(of path: String) throws(StorageError) {
        let created = try POSIXFile.makeDirectories(parent(of: path))
        if durability == .fsync {
            for directory in created { try POSIXFile.syncDirectory(parent(of: directory)) }
        }
    }

    /// Renames `from` over `to` and makes the rename durable.
    func moveIntoPlace(_ from: String, _ to: String) throws(StorageError) {
        try prepareParent(of: to)
        try POSIXFile.rename(from, to)
        if durability == .fsync { try POSIXFile.syncDirectory(parent(of: to)) }
    }

    // MARK: whole objects

    public func put<Body: AsyncSequence & Sendable>(_ key: ObjectKey, body: Body) async throws -> Int64
    where Body.Element == ByteBuffer {
        let temporary = "\(root)/.tmp/\(UUID().uuidString)"
        let fd = try POSIXFile.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        let file = OwnedDescriptor(fd)
        var written: Int64 = 0
        do {
            for try await chunk in body {
                let offset = written
                let durability = self.durability
                try await BlockingIO.run {
                    try POSIXFile.pwriteAll(file.fd, chunk, at: offset, path: temporary)
                    if durability == .fsync { POSIXFile.startWriteback(file.fd, offset: offset, length: Int64(chunk.readableBytes)) }
                }
                written += Int64(chunk.readableBytes)
            }
            let target = path(of: key)
            let durability = self.durability
            try await BlockingIO.run {
                if durability == .fsync { try POSIXFile.fdatasync(file.fd, path: temporary) }
                try moveIntoPlace(temporary, target)
            }
        } catch {
            _ = try? POSIXFile.unlink(temporary)
            throw error
        }
        return written
    }

    public func get(_ key: ObjectKey, range: Range<Int64>?) async throws -> ObjectRead {
        let path = path(of: key)
        let (file, size) = try await BlockingIO.run { () throws -> (OwnedDescriptor, Int64) in
            guard let fd = try POSIXFile.openIfExists(path, O_RDONLY) else { throw StorageError.notFound(key) }
            let file = OwnedDescriptor(fd)
            return (file, Int64(try POSIXFile.fstat(fd, path: path).st_size))
        }
        let effective = range ?? 0..<size
        guard effective.lowerBound >= 0, effective.upperBound <= size,
            effective.lowerBound < effective.upperBound || (effective.isEmpty && effective.lowerBound == 0 && range == nil)
        else { throw StorageError.rangeNotSatisfiable(size: size) }
        let reader = RangeReader(file: file, path: path, range: effective, chunkSize: readChunkSize, allocator: allocator)
        return ObjectRead(
            size: size, range: effective, body: ObjectBody(unfolding: { try await reader.next() }),
            file: OpenFileRange(file: file, path: path, range: effective))
    }

    public func stat(_ key: ObjectKey) async throws -> ObjectInfo? {
        let path = path(of: key)
        return try await BlockingIO.run { () throws -> ObjectInfo? in
            guard let st = try POSIXFile.stat(path), (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return ObjectInfo(key: key, size: Int64(st.st_size), modified: Date(timespec: st.st_mtim))
        }
    }

    public func delete(_ key: ObjectKey) async throws -> Bool {
        let path = path(of: key)
        return try await BlockingIO.run { try POSIXFile.unlink(path) }
    }

    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        let root = self.root
        return try await BlockingIO.run {
            // Walk only the deepest directory the prefix names.
            let directoryPart = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
            let base = directoryPart.isEmpty ? root : "\(root)/\(directoryPart)"
            var keys: [String] = []
            let manager = FileManager.default
            guard let walker = manager.enumerator(atPath: base) else { return ObjectListing(objects: [], nextStartAfter: nil) }
            while let relative = walker.nextObject() as? String {
                let last = relative.split(separator: "/").last.map(String.init) ?? relative
                if last.hasPrefix(".") {
                    walker.skipDescendants()
                    continue
                }
                let key = directoryPart.isEmpty ? relative : "\(directoryPart)/\(relative)"
                guard key.hasPrefix(prefix), ObjectKey.isValid(key) else { continue }
                if let startAfter, key <= startAfter { continue }
                keys.append(key)
            }
            keys.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var objects: [ObjectInfo] = []
            for key in keys {
                guard let st = try POSIXFile.stat("\(root)/\(key)"), (st.st_mode & S_IFMT) == S_IFREG else { continue }
                objects.append(ObjectInfo(key: try ObjectKey(key), size: Int64(st.st_size), modified: Date(timespec: st.st_mtim)))
                if objects.count == limit { break }
            }
            let truncated = objects.count == limit && keys.last != objects.last?.key.value
            return ObjectListing(objects: objects, nextStartAfter: truncated ? objects.last?.key.value : nil)
        }
    }

    // MARK: append

    public func beginAppend(_ key: ObjectKey) async throws -> AppendHandle {
        let staging = stagingPath(of: key)
        try await BlockingIO.run {
            try prepareParent(of: staging)
            let fd = try POSIXFile.open(staging, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            POSIXFile.close(fd)
        }
        return AppendHandle(key: key, uploadID: "")
    }

    public func appendPart(_ handle: AppendHandle, number: Int, offset: Int64, data: ByteBuffer) async throws -> AppendedPart {
        try await submitPart(handle, number: number, offset: offset, data: [data]).value()
    }

    func submitPart(_ handle: AppendHandle, number: Int, offset: Int64, data: [ByteBuffer]) -> SubmittedWrite<AppendedPart> {
        let staging = stagingPath(of: handle.key)
        let durability = self.durability
        let size = data.reduce(0) { $0 + Int64($1.readableBytes) }
        return SubmittedWrite {
            guard let fd = try POSIXFile.openIfExists(staging, O_WRONLY) else { throw StorageError.notFound(handle.key) }
            defer { POSIXFile.close(fd) }
            try POSIXFile.pwritevAll(fd, data, at: offset, path: staging)
            if durability == .fsync { POSIXFile.startWriteback(fd, offset: offset, length: size) }
            return AppendedPart(number: number, offset: offset, size: size, etag: "")
        }
    }

    public func syncAppend(_ handle: AppendHandle) async throws {
        guard durability == .fsync else { return }
        let staging = stagingPath(of: handle.key)
        try await BlockingIO.run {
            let fd = try POSIXFile.open(staging, O_WRONLY)
            defer { POSIXFile.close(fd) }
            try POSIXFile.fdatasync(fd, path: staging)
        }
    }

    public func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64) async throws {
        let staging = stagingPath(of: handle.key)
        let target = path(of: handle.key)
        let durability = self.durability
        try await BlockingIO.run {
            guard try finishStaging(staging, of: handle.key, size: size, durability: durability) else {
                throw StorageError.notFound(handle.key)
            }
            try moveIntoPlace(staging, target)
        }
    }

    /// Cuts the staging file of an append to `size` (a failed attempt may have written past
    /// the last acknowledged part) and syncs it. Returns false when there is no such file.
    func finishStaging(_ staging: String, of key: ObjectKey, size: Int64, durability: Durability) throws -> Bool {
        guard let fd = try POSIXFile.openIfExists(staging, O_WRONLY) else { return false }
        defer { POSIXFile.close(fd) }
        let current = Int64(try POSIXFile.fstat(fd, path: staging).st_size)
        if current < size { throw StorageError.corruptState("\(key) holds \(current) bytes, expected \(size)") }
        if current > size { try POSIXFile.truncate(fd, to: size, path: staging) }
        if durability == .fsync { try POSIXFile.fdatasync(fd, path: staging) }
        return true
    }

    public func abortAppend(_ handle: AppendHandle) async throws {
        let staging = stagingPath(of: handle.key)
        _ = try await BlockingIO.run { try POSIXFile.unlink(staging) }
    }

    public func removeEmptyFolder(prefix: String) async throws {
        let folders = try folders(of: prefix)
        try await BlockingIO.run { for folder in folders { try POSIXFile.removeEmptyDirectory(folder) } }
    }

    /// The folder that holds the keys under `prefix`, and its staging twin under `.append`.
    func folders(of prefix: String) throws(StorageError) -> [String] {
        let relative = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        guard ObjectKey.isValid(relative) else { throw StorageError.invalidKey(prefix) }
        return ["\(root)/\(relative)", "\(root)/.append/\(relative)"]
    }

    public func publish(_ staged: ObjectKey, to key: ObjectKey) async throws -> PublishOutcome {
        let from = path(of: staged)
        let to = path(of: key)
        return try await BlockingIO.run { () throws -> PublishOutcome in
            if let st = try POSIXFile.stat(to), (st.st_mode & S_IFMT) == S_IFREG {
                _ = try POSIXFile.unlink(from)
                return .alreadyExisted
            }
            // Two publishers of the same content may race past the check; rename is atomic
            // and both files hold the same bytes, so either order leaves one good object.
            try moveIntoPlace(from, to)
            return .created
        }
    }
}

/// Pulls one range of an open file in chunks, on the blocking-I/O pool, reading the next
/// chunk while the caller sends the current one (one read ahead).
///
/// Chunks are read into a ring of ``ringSize`` buffers that the reader allocates on first
/// use, on the caller's task, and reuses once whoever was sent a chunk has let it go (by
/// the time the ring comes round, the socket has normally taken it). A fresh buffer per
/// chunk, allocated on one of sixteen blocking-I/O threads, left glibc holding tens of MiB
/// in per-thread arenas after a few pulls; one allocated on the task and freed on the
/// event loop went back to the kernel each time and cut pull speed by a quarter.
final class RangeReader: Sendable {
    static let ringSize = 3

    /// Buffers read into in turn; a slot is empty until first used and while its buffer is
    /// being read into.
    private struct Ring {
        var slots: [ByteBuffer?]
        var next = 0
        /// Storage allocated so far: on a slot's first use, and when its last chunk was
        /// still held downstream as the ring came round.
        var allocations = 0
    }

    private let file: OwnedDescriptor
    private let path: String
    private let range: Range<Int64>
    private let chunkSize: Int
    private let allocator: ByteBufferAllocator
    private let position: Mutex<Int64>
    private let ring: Mutex<Ring>
    /// The read ahead, answering with the slot it filled. Chunks stay in the ring rather
    /// than in task results, which are freed a moment after they are read and would be
    /// found still holding a buffer as the ring came round.
    private let readAhead = Mutex<Task<Int?, any Error>?>(nil)

    init(file: OwnedDescriptor, path: String, range: Range<Int64>, chunkSize: Int, allocator: ByteBufferAllocator) {
        self.file = file
        self.path = path
        self.range = range
        self.chunkSize = chunkSize
        self.allocator = allocator
        self.position = Mutex(range.lowerBound)
        let chunks = (range.upperBound - range.lowerBound + Int64(chunkSize) - 1) / Int64(chunkSize)
        self.ring = Mutex(Ring(slots: Array(repeating: nil, count: Int(min(Int64(Self.ringSize), max(chunks, 1))))))
    }

    deinit { readAhead.withLock { $0?.cancel() } }

    /// How many buffers this reader has allocated so far (for tests).
    var allocations: Int { ring.withLock { $0.allocations } }

    func next() async throws -> ByteBuffer? {
        let pending = readAhead.withLock { task in
            defer { task = nil }
            return task
        }
        let filled: Int?
        if let pending { filled = try await pending.value } else { filled = try await readChunk() }
        guard let slot = filled else { return nil }
        guard let buffer = ring.withLock({ $0.slots[slot] }) else {
            // Reads never overlap, so a filled slot holds its chunk; never end a body short.
            throw StorageError.backend("\(path): chunk at slot \(slot) missing")
        }
        if position.withLock({ $0 }) < range.upperBound {
            readAhead.withLock { $0 = Task { [self] in try await readChunk() } }
        }
        return buffer
    }

    /// Reads the chunk at the current position into the ring's next buffer, advances, and
    /// answers the buffer's slot. Calls never overlap: the next one starts only after this
    /// one returned.
    private func readChunk() async throws -> Int? {
        let start = position.withLock { $0 }
        guard start < range.upperBound else { return nil }
        let count = Int(min(Int64(chunkSize), range.upperBound - start))
        // Allocated or emptied here, on the task: if the chunk last read into it is still
        // held downstream, emptying allocates fresh storage rather than writing under its
        // holder.
        let slot = ring.withLock { [allocator] ring -> Int in
            let slot = ring.next
            ring.next = (slot + 1) % ring.slots.count
            if ring.slots[slot] == nil {
                ring.slots[slot] = allocator.buffer(capacity: count)
                ring.allocations += 1
            } else {
                let before = ring.slots[slot]?.storageAddress
                ring.slots[slot]?.clear()
                if ring.slots[slot]?.storageAddress != before { ring.allocations += 1 }
            }
            return slot
        }
        let read = try await BlockingIO.run { [self, file, path] in
            // Taken out of the ring for the read, so that the read is its only owner and
            // writes in place.
            var buffer = ring.withLock { ring in
                defer { ring.slots[slot] = nil }
                return ring.slots[slot]
            } ?? ByteBuffer()
            let prepared = buffer.storageAddress
            defer {
                ring.withLock { ring in
                    if buffer.storageAddress != prepared { ring.allocations += 1 }
                    ring.slots[slot] = buffer
                }
            }
            try POSIXFile.pread(file.fd, count: count, at: start, into: &buffer, path: path)
            return buffer.readableBytes
        }
        guard read == count else {
            throw StorageError.backend("\(path) shrank while being read")
        }
        position.withLock { $0 = start + Int64(count) }
        return slot
    }
}

extension ByteBuffer {
    /// Where the storage begins: it differs after `clear()` exactly when the storage was
    /// shared and had to be replaced.
    fileprivate var storageAddress: UInt {
        withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }
}

extension Date {
    init(timespec ts: timespec) {
        self.init(timeIntervalSince1970: TimeInterval(ts.tv_sec) + TimeInterval(ts.tv_nsec) / 1e9)
    }
}

import Synchronization
