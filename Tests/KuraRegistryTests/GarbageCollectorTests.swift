import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import Logging
import NIOCore
import Testing

/// A registry over a temporary folder: file-backed SQLite catalog and filesystem storage.
struct GCFixture: Sendable {
    let registry: Registry
    let storageRoot: String

    static func with<T>(_ body: (GCFixture) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-gc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var logger = Logger(label: "gc-test")
        logger.logLevel = .critical
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: path + "/storage", durability: .none)),
            catalog: Catalog(try SQLiteMetadataStore(path: path + "/catalog.sqlite")), logger: logger)
        return try await body(GCFixture(registry: registry, storageRoot: path + "/storage"))
    }

    var store: any GarbageCollectionStore { registry.catalog.collection }

    func name(_ s: String) throws -> RepositoryName { try RepositoryName(parsing: s) }

    @discardableResult
    func pushBlob(_ bytes: [UInt8], _ repository: String) async throws -> Digest {
        let digest = ContentHasher.digest(.sha256, of: bytes)
        _ = try await registry.uploadBlob(
            SingleBufferSequence(buffer: ByteBuffer(bytes: bytes)), digest: digest, length: Int64(bytes.count),
            into: try name(repository))
        return digest
    }

    /// Pushes config and layers (when missing) and the image manifest; returns its digest and size.
    @discardableResult
    func pushImage(
        _ repository: String, tag: String?, config: [UInt8], layers: [[UInt8]], subject: (Digest, Int)? = nil
    ) async throws -> (Digest, Int) {
        for blob in [config] + layers {
            let digest = ContentHasher.digest(.sha256, of: blob)
            if (try? await registry.blobInfo(digest, in: try name(repository))) == nil { try await pushBlob(blob, repository) }
        }
        let bytes = GCManifests.image(config: config, layers: layers, subject: subject)
        let digest = ContentHasher.digest(.sha256, of: bytes)
        let reference: Reference = try tag.map { .tag(try Tag(parsing: $0)) } ?? .digest(digest)
        _ = try await registry.putManifest(
            ByteBuffer(bytes: bytes), contentType: MediaType.ociManifest, reference: reference, in: try name(repository))
        return (digest, bytes.count)
    }

    /// Pulls a manifest and every blob it names (children too, for an index) and verifies
    /// every digest. Throws on anything missing or wrong.
    func pull(_ repository: String, _ reference: Reference) async throws {
        let repo = try name(repository)
        let (record, bytes) = try await registry.manifest(reference, in: repo)
        guard ContentHasher.digest(record.digest.algorithm, of: bytes.readableBytesView) == record.digest else {
            throw GCTestFailure("manifest \(record.digest) has other bytes")
        }
        let parsed = try ManifestParser.parse(bytes.readableBytesView, contentType: record.mediaType)
        for blob in parsed.blobs {
            let read = try await registry.readBlob(blob.digest, in: repo, range: nil)
            var hasher = ContentHasher(blob.digest.algorithm)
            for try await chunk in read.body { hasher.update(chunk) }
            guard hasher.finalize() == blob.digest, hasher.byteCount == blob.size else {
                throw GCTestFailure("blob \(blob.digest) does not verify")
            }
        }
        for child in parsed.children { try await pull(repository, .digest(child.digest)) }
    }

    func gc(grace: TimeInterval = 0, dryRun: Bool = false, deleteUntagged: Bool = false) async throws -> GarbageCollectionSummary {
        // Links made in the same millisecond as the cutoff count as young.
        try await Task.sleep(for: .milliseconds(5))
        var options = GarbageCollectionOptions()
        options.gracePeriod = grace
        options.dryRun = dryRun
        options.deleteUntagged = deleteUntagged
        options.untaggedAge = 0
        return try await GarbageCollector(registry: registry, options: options).run()
    }

    func stored(_ digest: Digest) async throws -> Bool { try await registry.blobs.stat(digest) != nil }

    func objectPath(_ digest: Digest) -> String { storageRoot + "/" + ObjectKey(blob: digest).value }
}

struct GCTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum GCManifests {
    static func descriptor(_ mediaType: String, _ bytes: [UInt8]) -> String {
        "{\"mediaType\":\"\(mediaType)\",\"digest\":\"\(ContentHasher.digest(.sha256, of: bytes))\",\"size\":\(bytes.count)}"
    }

    static func image(config: [UInt8], layers: [[UInt8]], subject: (Digest, Int)? = nil) -> [UInt8] {
        var fields = [
            "\"schemaVersion\":2", "\"mediaType\":\"\(MediaType.ociManifest)\"",
            "\"config\":\(descriptor(MediaType.ociConfig, config))",
            "\"layers\":[\(layers.map { descriptor(MediaType.ociLayerGzip, $0) }.joined(separator: ","))]",
        ]
        if let subject {
            fields.append("\"subject\":{\"mediaType\":\"\(MediaType.ociManifest)\",\"digest\":\"\(subject.0)\",\"size\":\(subject.1)}")
        }
        return Array("{\(fields.joined(separator: ","))}".utf8)
    }

    static func index(_ children: [(Digest, Int)]) -> [UInt8] {
        let list = children.map { "{\"mediaType\":\"\(MediaType.ociManifest)\",\"digest\":\"\($0.0)\",\"size\":\($0.1)}" }
        return Array("{\"schemaVersion\":2,\"mediaType\":\"\(MediaType.ociIndex)\",\"manifests\":[\(list.joined(separator: ","))]}".utf8)
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func sha(_ b: [UInt8]) -> Digest { ContentHasher.digest(.sha256, of: b) }

@Suite("Garbage collection")
struct GarbageCollectorTests {
    @Test func sharedLayersStayUniqueOnesGo() async throws {
        try await GCFixture.with { f in
            let shared = bytes("shared layer"), onlyA = bytes("layer of a"), onlyB = bytes("layer of b")
            let (a, _) = try await f.pushImage("team/app", tag: "a", config: bytes("{\"a\":1}"), layers: [shared, onlyA])
            try await f.pushImage("team/app", tag: "b", config: bytes("{\"b\":1}"), layers: [shared, onlyB])
            try await f.registry.deleteManifest(.digest(a), in: try f.name("team/app"))

            let summary = try await f.gc()
            // config a, layer a, manifest a
            #expect(summary.blobsFreed == 3)
            #expect(try await !f.stored(sha(onlyA)))
            #expect(try await !f.stored(sha(bytes("{\"a\":1}"))))
            #expect(try await !f.stored(a))
            #expect(try await f.stored(sha(shared)))
            try await f.pull("team/app", .tag(try Tag(parsing: "b")))
            await #expect(throws: RegistryError.self) { try await f.pull("team/app", .tag(try Tag(parsing: "a"))) }
            let error = await #expect(throws: RegistryError.self) {
                try await f.registry.readBlob(sha(onlyA), in: try f.name("team/app"), range: nil)
            }
            #expect(error?.code == .blobUnknown)
            // Pushing image a again works (its blobs are uploaded again).
            try await f.pushImage("team/app", tag: "a", config: bytes("{\"a\":1}"), layers: [shared, onlyA])
            try await f.pull("team/app", .tag(try Tag(parsing: "a")))
            // A second collection finds nothing.
            #expect(try await f.gc().blobsFreed == 0)
        }
    }

    @Test func indexChildrenFollowTheIndexUnlessTaggedElsewhere() async throws {
        try await GCFixture.with { f in
            let c1 = try await f.pushImage("multi", tag: nil, config: bytes("{\"arch\":1}"), layers: [bytes("amd64 layer")])
            let c2 = try await f.pushImage("multi", tag: "arm", config: bytes("{\"arch\":2}"), layers: [bytes("arm64 layer")])
            let index = GCManifests.index([c1, c2])
            let result = try await f.registry.putManifest(
                ByteBuffer(bytes: index), contentType: MediaType.ociIndex, reference: .tag(try Tag(parsing: "latest")),
                in: try f.name("multi"))
            // While the index is kept, its untagged child is kept, even under deleteUntagged.
            #expect(try await f.gc(deleteUntagged: true).blobsFreed == 0)
            try await f.pull("multi", .tag(try Tag(parsing: "latest")))

            try await f.registry.deleteManifest(.digest(result.digest), in: try f.name("multi"))
            // Default policy keeps untagged manifests: only the index's own object goes.
            let first = try await f.gc()
            #expect(first.blobsFreed == 1)
            try await f.pull("multi", .digest(c1.0))
            // With deleteUntagged, the untagged child goes with its blobs; the tagged one stays.
            let second = try await f.gc(deleteUntagged: true)
            #expect(second.manifestsDeleted == 1)
            #expect(second.blobsFreed == 3)
            #expect(try await !f.stored(sha(bytes("amd64 layer"))))
            #expect(try await !f.stored(c1.0))
            try await f.pull("multi", .tag(try Tag(parsing: "arm")))
        }
    }

    @Test func referrersFollowTheirSubject() async throws {
        try await GCFixture.with { f in
            let subject = try await f.pushImage("signed", tag: "v1", config: bytes("{\"s\":1}"), layers: [bytes("app layer")])
            let signature = try await f.pushImage(
                "signed", tag: nil, config: bytes("{\"sig\":1}"), layers: [bytes("signature bytes")], subject: subject)
            #expect(try await f.gc().blobsFreed == 0)
            try await f.pull("signed", .digest(signature.0))

            try await f.registry.deleteManifest(.digest(subject.0), in: try f.name("signed"))
            let summary = try await f.gc()
            #expect(summary.referrersDeleted == 1)
            // subject manifest, its config and layer, and the same for the signature
            #expect(summary.blobsFreed == 6)
            #expect(try await !f.stored(sha(bytes("signature bytes"))))
            let referrers = try await f.registry.catalog.metadata.referrers(of: subject.0, in: try f.name("signed"), artifactType: nil)
            #expect(referrers.isEmpty)
        }
    }

    @Test func gracePeriodAndDryRun() async throws {
        try await GCFixture.with { f in
            let digest = try await f.pushBlob(bytes("pushed, manifest not yet"), "slow")
            #expect(try await f.gc(grace: 3600).blobsFreed == 0)
            #expect(try await f.stored(digest))

            let dry = try await f.gc(dryRun: true)
            #expect(dry.dryRun && dry.blobsFreed == 1 && dry.blobsListed == [digest.description])
            #expect(try await f.stored(digest))
            _ = try await f.registry.blobInfo(digest, in: try f.name("slow"))

            let real = try await f.gc()
            #expect(real.blobsFreed == 1 && real.bytesFreed == Int64(bytes("pushed, manifest not yet").count))
            #expect(try await !f.stored(digest))

            let runs = try await f.store.jobRuns(kind: "gc", limit: 10)
            #expect(runs.count == 3)
            #expect(runs.map(\.dryRun) == [false, true, false])
            #expect(runs.allSatisfy { $0.finishedAt != nil && $0.error == nil && $0.summary != nil })
        }
    }

    @Test func oneRunnerAtATime() async throws {
        try await GCFixture.with { f in
            #expect(try await f.store.acquireJobLock("maintenance", owner: "other-node", ttl: 60))
            await #expect(throws: JobError.self) { try await f.gc() }
            try await f.store.releaseJobLock("maintenance", owner: "other-node")
            _ = try await f.gc()
        }
    }

    @Test func expiredUploadsAreRemoved() async throws {
        try await GCFixture.with { f in
            let session = try await f.registry.startUpload(in: try f.name("up"))
            _ = try await f.registry.appendUpload(
                session.id.value, in: try f.name("up"), start: 0, length: 5,
                body: SingleBufferSequence(buffer: ByteBuffer(string: "hello")))
            var options = GarbageCollectionOptions()
            options.uploadExpiry = 3600
            #expect(try await GarbageCollector(registry: f.registry, options: options).run().uploadsExpired == 0)
            try await Task.sleep(for: .milliseconds(20))
            options.uploadExpiry = 0.001
            let summary = try await GarbageCollector(registry: f.registry, options: options).run()
            #expect(summary.uploadsExpired == 1 && summary.uploadBytesFreed == 5)
            await #expect(throws: RegistryError.self) { try await f.registry.uploadStatus(session.id.value, in: try f.name("up")) }
            #expect(try await f.registry.blobs.uploads().isEmpty)
        }
    }

    @Test func scrubFindsCorruptMissingAndOrphanedObjectsAndRepairs() async throws {
        try await GCFixture.with { f in
            let flipped = bytes("layer whose bytes will flip"), lost = bytes("layer deleted behind our back")
            try await f.pushImage("scrub/me", tag: "v1", config: bytes("{}"), layers: [flipped, lost])
            #expect(try await Scrubber(registry: f.registry).run().clean)

            // Flip a byte on disk, delete another object, drop a stray object into blobs/.
            let path = f.objectPath(sha(flipped))
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            data[0] ^= 0xff
            try data.write(to: URL(fileURLWithPath: path))
            try FileManager.default.removeItem(atPath: f.objectPath(sha(lost)))
            let stray = bytes("stray object")
            try await f.registry.blobs.backend.put(ObjectKey(blob: sha(stray)), bytes: ByteBuffer(bytes: stray))

            let report = try await Scrubber(registry: f.registry).run()
            #expect(report.corrupt == [sha(flipped).description])
            #expect(report.missing == [sha(lost).description])
            #expect(report.orphanedCount == 1 && report.orphaned == [ObjectKey(blob: sha(stray)).value])
            #expect(!report.clean)

            let repaired = try await Scrubber(registry: f.registry, repair: true).run()
            #expect(Set(repaired.repaired) == [sha(flipped).description, sha(lost).description])
            // The repaired blobs are unknown now, so the client pushes them again.
            let error = await #expect(throws: RegistryError.self) {
                try await f.registry.blobInfo(sha(flipped), in: try f.name("scrub/me"))
            }
            #expect(error?.code == .blobUnknown)
            try await f.pushImage("scrub/me", tag: "v1", config: bytes("{}"), layers: [flipped, lost])
            try await f.pull("scrub/me", .tag(try Tag(parsing: "v1")))
            let after = try await Scrubber(registry: f.registry).run()
            #expect(after.clean && after.corrupt.isEmpty && after.missing.isEmpty)
        }
    }

    /// GC in a loop (grace period 0: every unreferenced blob is fair game at once) while
    /// clients push images sharing layers, delete scratch images that share "volatile"
    /// layers with kept images, and pull. Afterwards every tag a client was told was pushed
    /// pulls completely and verifies, and scrub agrees nothing referenced is missing.
    @Test func collectingWhilePushingAndPulling() async throws {
        try await GCFixture.with { f in
            let shared = (0..<4).map { bytes("shared layer \($0)") }
            let volatile = (0..<4).map { bytes("volatile layer \($0)") }
            let stop = Flag()
            let gcLoop = Task {
                var runs = 0
                while !stop.isSet {
                    var options = GarbageCollectionOptions()
                    options.gracePeriod = 0
                    options.pageSize = 7
                    _ = try await GarbageCollector(registry: f.registry, options: options).run()
                    runs += 1
                }
                return runs
            }
            let pushed = try await withThrowingTaskGroup(of: [(String, String)].self) { group in
                for client in 0..<4 {
                    group.addTask {
                        let repository = "conc/r\(client % 2)"
                        var done: [(String, String)] = []
                        for image in 0..<6 {
                            let id = "\(client)-\(image)"
                            try await Self.retrying {
                                try await f.pushImage(
                                    repository, tag: "img-\(id)", config: bytes("{\"id\":\"\(id)\"}"),
                                    layers: [shared[image % 4], volatile[(client + image) % 4], bytes("unique \(id)")])
                            }
                            done.append((repository, "img-\(id)"))
                            // A scratch image over another volatile layer, deleted at once.
                            let scratch = try await Self.retrying {
                                try await f.pushImage(
                                    repository, tag: nil, config: bytes("{\"scratch\":\"\(id)\"}"),
                                    layers: [volatile[(client + image + 1) % 4], bytes("scratch \(id)")])
                            }
                            try await f.registry.deleteManifest(.digest(scratch.0), in: try f.name(repository))
                            // Pull something pushed earlier while GC runs.
                            let (r, t) = done.randomElement()!
                            try await f.pull(r, .tag(try Tag(parsing: t)))
                        }
                        return done
                    }
                }
                var all: [(String, String)] = []
                for try await done in group { all += done }
                return all
            }
            stop.set()
            let runs = try await gcLoop.value
            #expect(runs > 0)
            #expect(pushed.count == 24)
            _ = try await f.gc()
            for (repository, tag) in pushed { try await f.pull(repository, .tag(try Tag(parsing: tag))) }
            let report = try await Scrubber(registry: f.registry).run()
            #expect(report.missing.isEmpty && report.corrupt.isEmpty && report.danglingReferences.isEmpty)
        }
    }

    /// A push as a client does it: on BLOB_UNKNOWN, MANIFEST_BLOB_UNKNOWN or UNAVAILABLE
    /// (GC took a blob under it) it starts over.
    @discardableResult
    static func retrying<T>(_ push: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await push()
            } catch let error as RegistryError
                where [.blobUnknown, .manifestBlobUnknown, .unavailable].contains(error.code) && attempt < 200
            {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...5)))
            }
        }
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
