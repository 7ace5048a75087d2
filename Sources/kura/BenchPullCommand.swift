import ArgumentParser
import Foundation
import KuraCore

struct BenchPullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "GET one blob repeatedly from a registry and report throughput, requests/s and latency.",
        discussion: """
            The blob is pushed first (not timed). The first GET is timed on its own ("first"): on a registry \
            with a cache tier it is the cold read from the object store; the rest ("repeat") show warm reads.
            """
    )

    @OptionGroup var options: HTTPBenchOptions
    @Option(help: "Size of the blob.") var size: ByteSize = ByteSize(bytes: 256 << 20)
    @Option(help: "Number of GETs.") var requests: Int = 4
    @Option(help: "Concurrent connections.") var connections: Int = 1

    func run() async throws {
        let client = try options.makeClient()
        let make = BenchBlobStream.make(seed: UInt64(Date().timeIntervalSince1970 * 1000), source: RepeatedBufferSequence.randomBuffer(size: 1 << 20))
        let digest = BenchBlobStream.digest(of: make(0, size.bytes))
        let repository = options.repository
        try await client.withConnection { try await client.pushBlob(on: &$0, repository: repository, digest: digest, size: size.bytes, mode: .put, body: make) }
        let expected = size.bytes
        let progress = ProgressLine(json: options.json)
        @Sendable func pullOnce(_ connection: inout BenchConnection) async throws {
            let received = try await client.pullBlob(on: &connection, repository: repository, digest: digest)
            guard received == expected else { throw BenchClient.Failure(description: "got \(received) bytes, expected \(expected)") }
        }
        let firstStarted = ContinuousClock.now
        try await client.withConnection { try await pullOnce(&$0) }
        let firstSeconds = (ContinuousClock.now - firstStarted).seconds
        let repeats = max(0, requests - 1)
        let started = ContinuousClock.now
        let latencies = try await runConcurrently(client, requests: repeats, connections: connections, progress: progress) { try await pullOnce(&$0) }
        let seconds = (ContinuousClock.now - started).seconds
        progress.finish()
        let total = Double(expected) * Double(repeats)
        let repeatRate = repeats > 0 ? total / seconds / 1e6 : 0
        try reportBenchmark(
            [
                "benchmark": "pull", "url": options.url, "blobBytes": expected, "requests": requests, "connections": connections,
                "firstSeconds": firstSeconds, "firstMegabytesPerSecond": Double(expected) / firstSeconds / 1e6,
                "seconds": seconds, "megabytesPerSecond": repeatRate, "requestsPerSecond": repeats > 0 ? Double(repeats) / seconds : 0,
                "latencyMilliseconds": latencies.summary,
            ], json: options.json,
            lines: [
                "pull \(requests) × \(ByteSize(bytes: expected)) over \(connections) connections from \(options.url)",
                "  first GET:  \(format(Double(expected) / firstSeconds / 1e6, 0)) MB/s (\(format(firstSeconds, 2)) s)",
                "  repeat:     \(format(repeatRate, 0)) MB/s, \(format(repeats > 0 ? Double(repeats) / seconds : 0)) requests/s",
                "  latency:    p50 \(format(latencies.percentile(50), 2)) ms, p99 \(format(latencies.percentile(99), 2)) ms",
            ])
    }
}

/// Runs `operation` `requests` times over `connections` workers, each on its own
/// connection, and times each call.
func runConcurrently(
    _ client: BenchClient, requests: Int, connections: Int, progress: ProgressLine,
    _ operation: @escaping @Sendable (inout BenchConnection) async throws -> Void
) async throws -> LatencyStats {
    let next = Counter()
    return try await withThrowingTaskGroup(of: LatencyStats.self) { group in
        for _ in 0..<max(1, connections) {
            group.addTask {
                try await client.withConnection { connection in
                    var stats = LatencyStats()
                    while true {
                        let index = next.next()
                        guard index < requests else { break }
                        let t0 = ContinuousClock.now
                        try await operation(&connection)
                        stats.add(ContinuousClock.now - t0)
                        if index % 500 == 0 { progress.update("\(index)/\(requests)") }
                    }
                    return stats
                }
            }
        }
        var all = LatencyStats()
        for try await stats in group { all.merge(stats) }
        return all
    }
}
