import ArgumentParser
import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import Logging
import NIOCore

struct BenchGCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Time garbage collection over a generated catalog.",
        discussion: """
            Builds, in a temporary folder, a SQLite catalog and a filesystem blob store: \
            --manifests tagged image manifests over --blobs tiny blobs (each blob in one \
            manifest); deletes the --garbage fraction of the manifests; then times one \
            collection (grace period 0). Reports wall time, what was freed, and peak memory.
            """
    )

    @Option(help: "Blobs (layers) in the catalog.") var blobs = 100_000
    @Option(help: "Image manifests referring to them.") var manifests = 10_000
    @Option(help: "Fraction of manifests deleted before the collection.") var garbage = 0.1
    @Option(help: "Folder to build in (created, and removed afterwards).") var dir: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard manifests > 0, blobs >= manifests, (0...1).contains(garbage) else {
            throw ValidationError("need blobs >= manifests > 0 and 0 <= garbage <= 1")
        }
        let folder =
            dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("kura-bench-gc-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: folder + "/storage", durability: .none)),
            catalog: Catalog(try SQLiteMetadataStore(path: folder + "/catalog.sqlite")), logger: Logger(label: "bench"))
        let progress = ProgressLine(json: json)
        let setupStart = ContinuousClock.now
        let total = manifests
        let perManifest = blobs / manifests
        let extra = blobs - perManifest * manifests
        let repository = try RepositoryName(parsing: "bench/gc")
        let store = registry.blobs
        let catalog = registry.catalog.metadata
        let deleteEvery = garbage > 0 ? max(1, Int((1 / garbage).rounded())) : Int.max
        var doomed: [Digest] = []
        try await withThrowingTaskGroup(of: Digest?.self) { group in
            var next = 0
            func add(_ m: Int) {
                group.addTask {
                    var references: [ManifestReference] = []
                    var layers: [String] = []
                    for b in 0..<(perManifest + (m == total - 1 ? extra : 0)) {
                        let info = try await store.ingest(bytes: ByteBuffer(string: "blob \(m) \(b) \(UUID().uuidString)"))
                        try await catalog.linkBlob(info.digest, size: info.size, in: repository)
                        references.append(ManifestReference(digest: info.digest, kind: .blob))
                        layers.append("{\"mediaType\":\"\(MediaType.ociLayerGzip)\",\"digest\":\"\(info.digest)\",\"size\":\(info.size)}")
                    }
                    let body = ByteBuffer(
                        string: "{\"schemaVersion\":2,\"mediaType\":\"\(MediaType.ociManifest)\",\"layers\":[\(layers.joined(separator: ","))]}")
                    let manifest = try await store.ingest(bytes: body)
                    try await catalog.putManifest(
                        ManifestRecord(digest: manifest.digest, mediaType: MediaType.ociManifest, size: manifest.size),
                        references: references, in: repository, tag: try Tag(parsing: "t\(m)"))
                    return m % deleteEvery == 0 ? manifest.digest : nil
                }
            }
            while next < min(8, total) {
                add(next)
                next += 1
            }
            var done = 0
            for try await result in group {
                if let result { doomed.append(result) }
                done += 1
                if done % 100 == 0 { progress.update("building: \(done)/\(total) manifests") }
                if next < total {
                    add(next)
                    next += 1
                }
            }
        }
        for digest in doomed { _ = try await catalog.deleteManifest(digest, in: repository) }
        progress.finish()
        let setupSeconds = seconds(ContinuousClock.now - setupStart)
        let peakBefore = ProcessStats.peakResidentBytes

        var options = GarbageCollectionOptions()
        options.gracePeriod = 0
        let start = ContinuousClock.now
        let summary = try await GarbageCollector(registry: registry, options: options).run { p in
            progress.update("\(p.phase): \(p.done) freed")
        }
        progress.finish()
        let wall = seconds(ContinuousClock.now - start)
        let peak = ProcessStats.peakResidentBytes
        try reportBenchmark(
            [
                "blobs": blobs, "manifests": manifests, "garbageFraction": garbage, "setupSeconds": setupSeconds,
                "gcSeconds": wall, "objectsExamined": summary.blobsExamined, "objectsFreed": summary.blobsFreed,
                "bytesFreed": summary.bytesFreed, "peakResidentBytesBeforeGC": peakBefore, "peakResidentBytes": peak,
            ], json: json,
            lines: [
                "catalog: \(summary.blobsExamined) objects (\(blobs) blobs + \(manifests) manifests), built in \(format(setupSeconds)) s",
                "gc: \(format(wall, 2)) s, freed \(summary.blobsFreed) objects (\(summary.bytesFreed) bytes)",
                "peak RSS: \(peakBefore >> 20) MiB after building, \(peak >> 20) MiB after gc",
            ])
    }

    private func seconds(_ d: Swift.Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
