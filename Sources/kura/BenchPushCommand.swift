import ArgumentParser
import Foundation
import KuraCore

struct BenchPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push blobs to a registry and report throughput and latency.",
        discussion: """
            Each blob is a new digest: POST, then PUT with the body; with --patch one PATCH with the body and an empty PUT, \
            as docker and skopeo push; with --chunk PATCHes with Content-Range, then an empty PUT.
            """
    )

    @OptionGroup var options: HTTPBenchOptions
    @Option(help: "Size of each blob.") var size: ByteSize = ByteSize(bytes: 256 << 20)
    @Option(help: "Number of blobs to push.") var count: Int = 1
    @Option(help: "Blobs pushed at the same time.") var parallel: Int = 1
    @Option(help: "Upload in PATCH chunks of this size.") var chunk: ByteSize?
    @Flag(help: "Upload in one streamed PATCH, then an empty PUT (as docker and skopeo do).") var patch = false

    func run() async throws {
        let client = try options.makeClient()
        let source = RepeatedBufferSequence.randomBuffer(size: 1 << 20)
        let seed = UInt64(Date().timeIntervalSince1970 * 1000)
        // Digests are computed before the clock starts, as a client would know them.
        let blobs = (0..<count).map { i -> (Digest, @Sendable (Int64, Int64) -> BenchBlobStream) in
            let make = BenchBlobStream.make(seed: seed &+ UInt64(i), source: source)
            return (BenchBlobStream.digest(of: make(0, size.bytes)), make)
        }
        let progress = ProgressLine(json: options.json)
        let done = Counter()
        let repository = options.repository
        let blobBytes = size.bytes
        let mode: BenchClient.PushMode = chunk.map { .chunks($0.bytes) } ?? (patch ? .patch : .put)
        let started = ContinuousClock.now
        let cpuAtStart = ProcessStats.cpuSeconds
        let latencies = try await withThrowingTaskGroup(of: LatencyStats.self) { group in
            let next = Counter()
            for _ in 0..<max(1, parallel) {
                group.addTask {
                    try await client.withConnection { connection in
                        var stats = LatencyStats()
                        while true {
                            let index = next.next()
                            guard index < blobs.count else { break }
                            let (digest, make) = blobs[index]
                            let t0 = ContinuousClock.now
                            try await client.pushBlob(
                                on: &connection, repository: repository, digest: digest, size: blobBytes, mode: mode, body: make)
                            stats.add(ContinuousClock.now - t0)
                            let finished = done.next() + 1
                            progress.update("pushed \(finished)/\(blobs.count)")
                        }
                        return stats
                    }
                }
            }
            var all = LatencyStats()
            for try await stats in group { all.merge(stats) }
            return all
        }
        let seconds = (ContinuousClock.now - started).seconds
        let clientCPU = ProcessStats.cpuSeconds - cpuAtStart
        progress.finish()
        let total = Double(blobBytes) * Double(count)
        try reportBenchmark(
            [
                "benchmark": "push", "url": options.url, "blobBytes": blobBytes, "blobs": count, "parallel": parallel,
                "chunkBytes": chunk?.bytes ?? 0, "patch": patch, "expectContinue": options.expectContinue, "seconds": seconds, "megabytesPerSecond": total / seconds / 1e6,
                "blobsPerSecond": Double(count) / seconds, "latencyMilliseconds": latencies.summary, "clientCPUSeconds": clientCPU,
            ], json: options.json,
            lines: [
                "push \(count) × \(size) with \(parallel) in parallel\(chunk.map { " in \($0) chunks" } ?? (patch ? " in one PATCH" : ""))\(options.expectContinue ? " with Expect: 100-continue" : "") to \(options.url)",
                "  throughput: \(format(total / seconds / 1e6, 0)) MB/s, \(format(Double(count) / seconds)) blobs/s in \(format(seconds, 2)) s",
                "  latency:    p50 \(format(latencies.percentile(50))) ms, p99 \(format(latencies.percentile(99))) ms",
                "  client CPU: \(format(clientCPU, 2)) s (\(format(clientCPU / seconds * 100, 0)) % of one core)",
            ])
    }
}
