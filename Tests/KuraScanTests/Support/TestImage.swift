import Foundation
import KuraTestSupport
import KuraCore
import KuraScan
import KuraStorage
import NIOCore
import Synchronization

/// One file in a layer the test builds.
enum LayerFile {
    case text(String, mode: Int = 0o644)
    case bytes([UInt8], mode: Int = 0o644)
    /// A file copied from this machine (a real package database, a real binary).
    case copy(from: String, mode: Int = 0o644)
    case symlink(to: String)
    case directory
    /// An OCI whiteout removing `name` from the layers below: `.wh.<name>` beside it.
    case whiteout
    /// An OCI opaque-directory marker (`.wh..wh..opq`) in the directory at this path.
    case opaque
}

/// Images the tests build: each layer is a real folder packed by GNU tar (compressed by
/// gzip or zstd), stored in a real ``BlobStore`` on the filesystem, and read back through it.
final class TestImage: Sendable {
    let root: URL
    let store: BlobStore
    private let layerDigests = Mutex<[Digest]>([])
    private let reads = Mutex(0)

    /// `readChunkSize` is the size of the chunks the store hands out, to exercise boundaries.
    init(root: URL, readChunkSize: Int = 64 << 10) throws {
        self.root = root
        let blobs = root.appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        store = BlobStore(backend: try FileSystemBackend(root: blobs.path, durability: .none, readChunkSize: readChunkSize))
    }

    var layers: [Digest] { layerDigests.withLock { $0 } }

    /// How many times a layer blob was opened.
    var blobReads: Int { reads.withLock { $0 } }

    var open: @Sendable (Digest) async throws -> ObjectBody {
        { [self] digest in
            reads.withLock { $0 += 1 }
            return try await store.read(digest).body
        }
    }

    /// Packs `files` (paths relative to the image root) into a layer and stores it.
    @discardableResult
    func addLayer(_ files: [String: LayerFile], compression: LayerCompression = .gzip, tarOptions: [String] = []) async throws -> Digest {
        let bytes = try await Self.pack(files, compression: compression, tarOptions: tarOptions, in: root)
        return try await addBlob(bytes)
    }

    /// Stores raw bytes as the next layer (for hand-made bad input).
    @discardableResult
    func addBlob(_ bytes: [UInt8]) async throws -> Digest {
        let digest = try await store.ingest(bytes: ByteBuffer(bytes: bytes)).digest
        layerDigests.withLock { $0.append(digest) }
        return digest
    }

    static func pack(_ files: [String: LayerFile], compression: LayerCompression, tarOptions: [String] = [], in root: URL) async throws -> [UInt8] {
        let tree = root.appendingPathComponent("tree-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
            var target = tree.appendingPathComponent(path)
            switch file {
            case .whiteout:
                target = target.deletingLastPathComponent().appendingPathComponent(".wh." + target.lastPathComponent)
            case .opaque:
                target = target.appendingPathComponent(".wh..wh..opq")
            default:
                break
            }
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            switch file {
            case .text(let text, let mode):
                try Data(text.utf8).write(to: target)
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target.path)
            case .bytes(let bytes, let mode):
                try Data(bytes).write(to: target)
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target.path)
            case .copy(let source, let mode):
                try FileManager.default.copyItem(atPath: URL(fileURLWithPath: source).resolvingSymlinksInPath().path, toPath: target.path)
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target.path)
            case .symlink(let destination):
                try FileManager.default.createSymbolicLink(atPath: target.path, withDestinationPath: destination)
            case .directory:
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            case .whiteout, .opaque:
                try Data().write(to: target)
            }
        }
        let output = root.appendingPathComponent("layer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var arguments = ["--numeric-owner", "--owner=0", "--group=0"] + tarOptions
        switch compression {
        case .gzip: arguments += ["--gzip"]
        case .zstd: arguments += ["--zstd"]
        case .none: break
        }
        arguments += ["-C", tree.path, "-cf", output.path, "."]
        try await run("/usr/bin/tar", arguments)
        return Array(try Data(contentsOf: output))
    }
}

struct CommandFailed: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let output: String
    var description: String { "\(command) exited \(status): \(output)" }
}

/// Runs a program to completion and returns what it printed (standard output, then standard
/// error); throws with that output if it fails. Waits without blocking a cooperative thread (``ExternalProcess``): a blocking
/// `go build` here once stalled every in-process server of a full run.
@discardableResult
func run(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil) async throws -> String {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kura-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    do {
        let result = try await ExternalProcess.run(
            executable, arguments, environment: environment.map { ProcessInfo.processInfo.environment.merging($0) { _, new in new } },
            directory: directory?.path, scratch: scratch.path)
        return result.stdout + result.stderr
    } catch let failure as ExternalProcessFailure {
        throw CommandFailed(
            command: ([executable] + arguments).joined(separator: " "), status: failure.result.status,
            output: failure.result.stderr + failure.result.stdout)
    }
}
