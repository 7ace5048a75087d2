import Foundation
import KuraCore
import KuraMetadata
@testable import KuraRegistry
import KuraStorage
import Logging
import Metrics
import MetricsTestKit
import NIOCore
import Testing

/// One metrics backend for the whole test process (swift-metrics bootstraps once).
enum TestMetricsBackend {
    static let shared: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()
}

@Suite("Job metrics")
struct JobMetricsTests {
    @Test func gcAndScrubReportDurationRunsAndVolume() async throws {
        let metrics = TestMetricsBackend.shared
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-metrics-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: path, durability: .none)), catalog: Catalog(try SQLiteMetadataStore.inMemory()),
            logger: Logger(label: "test"))
        let bytes = Array(repeating: UInt8(7), count: 1000)
        let digest = ContentHasher.digest(.sha256, of: bytes)
        _ = try await registry.uploadBlob(
            SingleBufferSequence(buffer: ByteBuffer(bytes: bytes)), digest: digest, length: 1000, into: try RepositoryName(parsing: "m/app"))

        let before = metrics.counters(label: "kura_job_runs_total", dimensions: [("kind", "scrub"), ("outcome", "succeeded")]).first?.totalValue ?? 0
        _ = try await Scrubber(registry: registry).run()
        let scrubRuns = try metrics.expectCounter("kura_job_runs_total", [("kind", "scrub"), ("outcome", "succeeded")])
        #expect(scrubRuns.totalValue == before + 1)
        #expect(try metrics.expectCounter("kura_job_bytes_total", [("kind", "scrub")]).totalValue >= 1000)
        #expect(try metrics.expectTimer("kura_job_duration_seconds", [("kind", "scrub")]).values.count >= 1)

        // The blob is unreferenced; with no grace period GC frees it and counts it.
        var options = GarbageCollectionOptions()
        options.gracePeriod = 0
        let summary = try await GarbageCollector(registry: registry, options: options).run()
        #expect(summary.blobsFreed == 1)
        #expect(try metrics.expectCounter("kura_job_bytes_total", [("kind", "gc")]).totalValue >= 1000)
        #expect(try metrics.expectCounter("kura_job_runs_total", [("kind", "gc"), ("outcome", "succeeded")]).totalValue >= 1)
    }
}
