#if canImport(Glibc)
import Glibc
#endif
public import Foundation
import KuraCore
import KuraMetadata
public import KuraStorage

/// What `kura backup` wrote, also kept as `backup.json` in the backup folder.
public struct BackupSummary: Sendable, Hashable, Codable {
    public var createdAt = Date()
    public var seconds: Double = 0
    /// The catalog snapshot before and after LZ4.
    public var catalogBytes: Int64 = 0
    public var compressedBytes: Int64 = 0
    /// SHA-256 of the compressed snapshot (`catalog.sqlite.lz4`).
    public var catalogDigest = ""
    /// Blobs the snapshot references (listed in `blobs.txt`).
    public var blobs = 0
    public var blobBytes: Int64 = 0
    /// With `--storage`: blobs copied into the backup's `storage/` this time (the others were there).
    public var blobsCopied = 0
    public var bytesCopied: Int64 = 0
}

/// What `kura restore` did.
public struct RestoreSummary: Sendable, Hashable, Codable {
    public var seconds: Double = 0
    public var blobsVerified = 0
    public var bytesVerified: Int64 = 0
    /// Blobs copied from the backup's `storage/` into the target storage.
    public var blobsCopied = 0
    public var catalogPath = ""
}

/// Why a restore did not swap the catalog in.
public enum RestoreRefusal: Error, CustomStringConvertible {
    case blobsMissing([String])
    case notABackup(String)
    case catalogExists(String)

    public var description: String {
        switch self {
        case .blobsMissing(let digests):
            "\(digests.count) referenced blob(s) are missing or corrupt in the target storage; nothing was restored:\n"
                + digests.map { "  \($0)" }.joined(separator: "\n")
        case .notABackup(let why): "not a usable backup: \(why)"
        case .catalogExists(let path): "\(path) exists; move it away (or pass --force to keep it as a .before-restore copy)"
        }
    }
}

/// `kura backup` and `kura restore` for the SQLite catalog. Blobs are content-addressed and
/// never change, so a backup is the catalog at one moment plus the list of blobs it
/// references; copying storage (``backup(to:copyBlobs:progress:)`` with `copyBlobs`) only
/// adds what the backup folder lacks, each blob verified as it is copied.
public struct RegistryBackup: Sendable {
    public static let catalogFile = "catalog.sqlite.lz4"
    public static let blobListFile = "blobs.txt"
    public static let summaryFile = "backup.json"
    public static let storageFolder = "storage"

    public let registry: Registry

    public init(registry: Registry) { self.registry = registry }

    /// Writes a backup into `directory` (created if needed) while the registry keeps serving.
    public func backup(
        to directory: String, copyBlobs: Bool, progress: @escaping @Sendable (GarbageCollectionProgress) -> Void = { _ in }
    ) async throws -> BackupSummary {
        guard let catalog = registry.catalog.embedded else {
            throw BackupUnsupported.postgresCatalog
        }
        let started = Date()
        var summary = BackupSummary()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let snapshot = "\(directory)/catalog.sqlite.partial"
        try? FileManager.default.removeItem(atPath: snapshot)
        try await catalog.backup(to: snapshot)
        defer { try? FileManager.default.removeItem(atPath: snapshot) }
        summary.catalogBytes = Int64((try FileManager.default.attributesOfItem(atPath: snapshot)[.size] as? NSNumber)?.int64Value ?? 0)
        progress(.init(phase: "catalog", done: 1, total: 1, bytesFreed: 0))

        // The blobs the snapshot (not the live catalog, which moved on) references.
        let referenced = try await Self.referencedBlobs(inCatalogAt: snapshot)
        summary.blobs = referenced.count
        summary.blobBytes = referenced.reduce(0) { $0 + $1.size }
        let list = referenced.map { "\($0.digest) \($0.size)\n" }.joined()
        try Data(list.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(Self.blobListFile).partial"), options: .atomic)

        if copyBlobs {
            let target = BlobStore(backend: try FileSystemBackend(root: "\(directory)/\(Self.storageFolder)"))
            for (index, blob) in referenced.enumerated() {
                if try await target.stat(blob.digest)?.size != blob.size {
                    let read = try await registry.blobs.read(blob.digest)
                    _ = try await target.ingest(read.body, expected: blob.digest, expectedLength: blob.size)
                    summary.blobsCopied += 1
                    summary.bytesCopied += blob.size
                }
                progress(.init(phase: "blobs", done: index + 1, total: referenced.count, bytesFreed: 0))
            }
        }

        let compressed = "\(directory)/\(Self.catalogFile).partial"
        summary.compressedBytes = try LZ4FrameFile.compress(snapshot, to: compressed)
        summary.catalogDigest = try Self.fileDigest(compressed).description
        summary.seconds = Date().timeIntervalSince(started)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(summary).write(to: URL(fileURLWithPath: "\(directory)/\(Self.summaryFile).partial"), options: .atomic)
        // The files replace an older backup's only once all of them are written.
        for name in [Self.catalogFile, Self.blobListFile, Self.summaryFile] {
            guard rename("\(directory)/\(name).partial", "\(directory)/\(name)") == 0 else {
                throw RestoreRefusal.notABackup("cannot move \(name) into place: errno \(errno)")
            }
        }
        return summary
    }

    /// Restores the backup in `directory` as the catalog at `catalogPath`, for storage
    /// `blobs`: blobs the target lacks are copied from the backup's `storage/` (if it has
    /// one); then every referenced blob is read and hashed, and only if all are present and
    /// right is the catalog swapped in. Otherwise nothing changes and
    /// ``RestoreRefusal/blobsMissing(_:)`` lists what is wrong.
    public static func restore(
        from directory: String, catalogPath: String, blobs: BlobStore, force: Bool,
        progress: @escaping @Sendable (GarbageCollectionProgress) -> Void = { _ in }
    ) async throws -> RestoreSummary {
        let started = Date()
        let manager = FileManager.default
        if manager.fileExists(atPath: catalogPath), !force { throw RestoreRefusal.catalogExists(catalogPath) }
        let compressed = "\(directory)/\(catalogFile)"
        guard let summaryData = manager.contents(atPath: "\(directory)/\(summaryFile)") else {
            throw RestoreRefusal.notABackup("\(directory)/\(summaryFile) is missing")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let backup = try decoder.decode(BackupSummary.self, from: summaryData)
        guard try fileDigest(compressed).description == backup.catalogDigest else {
            throw RestoreRefusal.notABackup("\(compressed) does not match the digest in \(summaryFile)")
        }
        let folder = (catalogPath as NSString).deletingLastPathComponent
        try manager.createDirectory(atPath: folder.isEmpty ? "." : folder, withIntermediateDirectories: true)
        let staged = catalogPath + ".restoring"
        try? manager.removeItem(atPath: staged)
        try LZ4FrameFile.decompress(compressed, to: staged)
        var swapped = false
        defer { if !swapped { try? manager.removeItem(atPath: staged) } }
        try SQLiteMetadataStore.checkIntegrity(of: staged)
        let referenced = try await referencedBlobs(inCatalogAt: staged)

        var summary = RestoreSummary()
        summary.catalogPath = catalogPath
        var source: BlobStore?
        if manager.fileExists(atPath: "\(directory)/\(storageFolder)") {
            source = BlobStore(backend: try FileSystemBackend(root: "\(directory)/\(storageFolder)"))
        }
        var wrong: [String] = []
        for (index, blob) in referenced.enumerated() {
            if let source, try await blobs.stat(blob.digest) == nil, try await source.stat(blob.digest)?.size == blob.size {
                let read = try await source.read(blob.digest)
                do {
                    _ = try await blobs.ingest(read.body, expected: blob.digest, expectedLength: blob.size)
                    summary.blobsCopied += 1
                } catch let error as RegistryError where [.digestInvalid, .sizeInvalid].contains(error.code) {
                    // A damaged copy in the backup: reported below as missing.
                }
            }
            switch await Scrubber.verify(blob, blobs).1 {
            case .ok:
                summary.blobsVerified += 1
                summary.bytesVerified += blob.size
            case .missing: wrong.append("\(blob.digest) missing")
            case .corrupt(let why): wrong.append("\(blob.digest) corrupt: \(why)")
            case .failed(let why): wrong.append("\(blob.digest) unreadable: \(why)")
            }
            progress(.init(phase: "verify", done: index + 1, total: referenced.count, bytesFreed: 0))
        }
        guard wrong.isEmpty else { throw RestoreRefusal.blobsMissing(wrong) }

        if manager.fileExists(atPath: catalogPath) {
            let stamp = Int(Date().timeIntervalSince1970)
            try manager.moveItem(atPath: catalogPath, toPath: "\(catalogPath).before-restore-\(stamp)")
        }
        for suffix in ["-wal", "-shm"] { try? manager.removeItem(atPath: catalogPath + suffix) }
        try manager.moveItem(atPath: staged, toPath: catalogPath)
        swapped = true
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Every live blob (and manifest) of the catalog in the SQLite file at `path`.
    static func referencedBlobs(inCatalogAt path: String) async throws -> [CatalogBlob] {
        let store = try SQLiteMetadataStore(path: path)
        var result: [CatalogBlob] = []
        var after: Digest? = nil
        while true {
            let page = try await store.liveBlobs(after: after, limit: 1000)
            guard let last = page.last else { break }
            result += page
            after = last.digest
        }
        return result
    }

    static func fileDigest(_ path: String) throws -> Digest {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RestoreRefusal.notABackup("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = ContentHasher(.sha256)
        while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { piece.withUnsafeBytes { hasher.update($0) } }
        return hasher.finalize()
    }
}
