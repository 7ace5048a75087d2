import ArgumentParser
import Foundation
import KuraCore
import KuraStorage
import NIOCore

struct BenchIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Stream a blob through hashing into a blob store folder and commit it.",
        discussion: """
            Measures the storage engine alone: bytes → SHA-256 → file → fsync → rename. Prints \
            throughput and the process's peak memory. Without --chunk the blob is one \
            monolithic ingest; with --chunk it is an upload session fed chunk by chunk, with \
            the session state persisted after every chunk as a real client would cause.
            """
    )

    @Option(help: "Blob size, e.g. 1GiB.") var size: ByteSize = ByteSize(bytes: 1 << 30)
    @Option(help: "Upload in chunks of this size through an upload session.") var chunk: ByteSize?
    @Option(help: "Folder for the blob store (created, and removed afterwards).") var dir: String?
    @Option(help: "Size of each buffer handed to the store.") var buffer: ByteSize = ByteSize(bytes: 1 << 20)
    @Flag(help: "Skip fdatasync/fsync (measures the page cache, not the disk).") var noFsync = false
    @Option(help: "Repeat the measurement and report each run and the best.") var runs: Int = 1
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let folder = dir ?? FileManager.default.currentDirectoryPath + "/.kura-bench-\(UUID().uuidString.prefix(8))"
        let source = RepeatedBufferSequence.randomBuffer(size: Int(buffer.bytes))
        var results: [Double] = []
        var digest = ""
        // A chunked commit needs the digest up front, as a client would know it.
        let expected = chunk == nil ? nil : Self.referenceDigest(source: source, size: size.bytes)
        for run in 1...max(1, runs) {
            let runFolder = "\(folder)/run-\(run)"
            defer { try? FileManager.default.removeItem(atPath: runFolder) }
            let backend = try FileSystemBackend(root: runFolder, durability: noFsync ? .none : .fsync)
            let store = BlobStore(backend: backend)
            let start = ContinuousClock.now
            let info: BlobInfo
            if let chunk {
                let session = try await store.startUpload()
                var sent: Int64 = 0
                while sent < size.bytes {
                    let length = min(chunk.bytes, size.bytes - sent)
                    _ = try await store.appendUpload(
                        session.id, at: sent, expectedLength: length,
                        body: RepeatedBufferSequence(buffer: source, total: length))
                    sent += length
                }
                info = try await store.commitUpload(
                    session.id, expected: expected!, lastChunk: Optional<SingleBufferSequence>.none)
            } else {
                info = try await store.ingest(RepeatedBufferSequence(buffer: source, total: size.bytes))
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            results.append(seconds)
            digest = info.digest.description
            if !json {
                let rate = Double(size.bytes) / seconds / 1e6
                FileHandle.standardError.write(Data("run \(run): \(String(format: "%.3f", seconds)) s, \(String(format: "%.0f", rate)) MB/s\n".utf8))
            }
        }
        try? FileManager.default.removeItem(atPath: folder)
        let best = results.min() ?? 0
        let rate = Double(size.bytes) / best / 1e6
        let peak = ProcessStats.peakResidentBytes
        if json {
            let object: [String: Any] = [
                "benchmark": "ingest", "bytes": size.bytes, "chunkBytes": chunk?.bytes ?? 0, "fsync": !noFsync,
                "seconds": results, "bestSeconds": best, "megabytesPerSecond": rate,
                "peakResidentBytes": peak, "digest": digest,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("ingest \(size) \(chunk.map { "in \($0) chunks" } ?? "monolithic")\(noFsync ? " without fsync" : "")")
            print("  throughput: \(String(format: "%.0f", rate)) MB/s (best of \(results.count))")
            print("  peak RSS:   \(String(format: "%.1f", Double(peak) / 1_048_576)) MiB")
            print("  digest:     \(digest)")
        }
    }

    /// The digest of the benchmark's stream, computed outside the timed region's store.
    static func referenceDigest(source: ByteBuffer, size: Int64) -> Digest {
        var hasher = ContentHasher(.sha256)
        var remaining = size
        while remaining > 0 {
            let count = Int(min(Int64(source.readableBytes), remaining))
            hasher.update(source.getSlice(at: source.readerIndex, length: count)!)
            remaining -= Int64(count)
        }
        return hasher.finalize()
    }
}
