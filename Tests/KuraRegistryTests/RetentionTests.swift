import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import Logging
import NIOCore
import Testing

@Suite("Retention policies")
struct RetentionTests {
    private func withRegistry<T>(_ body: (Registry, any RetentionStore) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-ret-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let catalog = try SQLiteMetadataStore.inMemory()
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: path, durability: .none)), catalog: Catalog(catalog), logger: Logger(label: "test"))
        return try await body(registry, catalog)
    }

    /// Pushes a one-layer image tagged `tag` (a distinct image per tag).
    private func push(_ registry: Registry, _ repository: String, tag: String) async throws {
        let name = try RepositoryName(parsing: repository)
        let config = Array("{\"tag\":\"\(tag)\"}".utf8)
        let digest = ContentHasher.digest(.sha256, of: config)
        _ = try await registry.uploadBlob(
            SingleBufferSequence(buffer: ByteBuffer(bytes: config)), digest: digest, length: Int64(config.count), into: name)
        let manifest = """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(digest)","size":\(config.count)},"layers":[]}
            """
        _ = try await registry.putManifest(
            ByteBuffer(string: manifest), contentType: MediaType.ociManifest, reference: .tag(try Tag(parsing: tag)), in: name)
        try await Task.sleep(for: .milliseconds(5))  // distinct push times
    }

    private func tags(_ registry: Registry, _ repository: String) async throws -> [String] {
        try await registry.tags(in: try RepositoryName(parsing: repository), after: nil, limit: nil).map(\.value)
    }

    @Test func keepsNewestAndMatchingTagsAndDryRunChangesNothing() async throws {
        try await withRegistry { registry, store in
            for tag in ["v1", "v2", "release-1", "v3", "latest"] { try await push(registry, "team/app", tag: tag) }
            try await store.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 2, keepPattern: "release-.*"))
            let evaluator = RetentionEvaluator(registry: registry)

            let preview = try await evaluator.run(dryRun: true)
            #expect(preview.map(\.tag) == ["v2", "v1"])
            #expect(try await tags(registry, "team/app") == ["latest", "release-1", "v1", "v2", "v3"])

            let done = try await evaluator.run(dryRun: false)
            #expect(done.map(\.tag) == ["v2", "v1"])
            #expect(try await tags(registry, "team/app") == ["latest", "release-1", "v3"])
            // Running again deletes nothing more.
            #expect(try await evaluator.run(dryRun: false).isEmpty)
            // Every run is recorded as a job run.
            let runs = try await registry.jobRuns(kind: "retention", limit: 10)
            #expect(runs.count == 3)
            #expect(runs.contains { $0.dryRun && $0.summary?.contains("\"tagsMatched\":2") == true })
        }
    }

    @Test func ageLimitsAndTheMostSpecificPolicyWins() async throws {
        try await withRegistry { registry, store in
            for tag in ["a", "b"] { try await push(registry, "team/app", tag: tag) }
            for tag in ["x", "y"] { try await push(registry, "team/other", tag: tag) }
            try await store.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 1))
            try await store.setRetentionPolicy(RetentionPolicy(scope: "team/other", deleteOlderThan: 3600))
            let evaluator = RetentionEvaluator(registry: registry)
            // Now: team/other's tags are young, so only team/app loses its older tag.
            #expect(try await evaluator.run(dryRun: true).map { "\($0.repository):\($0.tag)" } == ["team/app:a"])
            // Two hours later, team/other's tags are all older than an hour.
            let later = Date().addingTimeInterval(7200)
            let decisions = try await evaluator.run(dryRun: false, now: later)
            #expect(Set(decisions.map { "\($0.repository):\($0.tag)" }) == ["team/app:a", "team/other:x", "team/other:y"])
            #expect(try await tags(registry, "team/other").isEmpty)
            #expect(try await store.removeRetentionPolicy(scope: "team/other"))
            #expect(try await store.retentionPolicies().map(\.scope) == ["team"])
        }
    }
}
