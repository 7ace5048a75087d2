import ArgumentParser
import Foundation
import KuraCore
import KuraStorage

struct BenchManifestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifests",
        abstract: "GET a manifest by tag repeatedly and report requests/s and latency.",
        discussion: "A small image (config, layer, manifest) is pushed first (not timed)."
    )

    @OptionGroup var options: HTTPBenchOptions
    @Option(help: "Number of GETs.") var requests: Int = 20_000
    @Option(help: "Concurrent connections.") var connections: Int = 64

    func run() async throws {
        let client = try options.makeClient()
        let repository = options.repository
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".utf8)
        let layerSource = RepeatedBufferSequence.randomBuffer(size: 1 << 20)
        let layer = Array(layerSource.readableBytesView.prefix(4096))
        var digests: [Digest] = []
        for blob in [config, layer] {
            let digest = ContentHasher.digest(.sha256, of: blob)
            digests.append(digest)
            let bytes = blob
            try await client.withConnection { connection in
                try await client.pushBlob(on: &connection, repository: repository, digest: digest, size: Int64(bytes.count), mode: .put) { _, _ in
                    var buffer = layerSource
                    buffer.clear()
                    buffer.writeBytes(bytes)
                    return BenchBlobStream(head: buffer, body: buffer, range: 0..<Int64(bytes.count))
                }
            }
        }
        let manifest = Array("""
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(digests[0])","size":\(config.count)},"layers":[{"mediaType":"\(MediaType.ociLayerGzip)","digest":"\(digests[1])","size":\(layer.count)}]}
            """.utf8)
        try await client.withConnection {
            try await client.putManifest(on: &$0, repository: repository, reference: "bench", mediaType: MediaType.ociManifest, bytes: manifest)
        }
        let expected = manifest.count
        let progress = ProgressLine(json: options.json)
        let started = ContinuousClock.now
        let latencies = try await runConcurrently(client, requests: requests, connections: connections, progress: progress) { connection in
            let received = try await client.getManifest(on: &connection, repository: repository, reference: "bench", accept: MediaType.ociManifest)
            guard received == expected else { throw BenchClient.Failure(description: "got \(received) bytes, expected \(expected)") }
        }
        let seconds = (ContinuousClock.now - started).seconds
        progress.finish()
        try reportBenchmark(
            [
                "benchmark": "manifests", "url": options.url, "requests": requests, "connections": connections,
                "seconds": seconds, "requestsPerSecond": Double(requests) / seconds, "latencyMilliseconds": latencies.summary,
            ], json: options.json,
            lines: [
                "manifest GETs: \(requests) over \(connections) connections from \(options.url)",
                "  rate:    \(format(Double(requests) / seconds, 0)) requests/s",
                "  latency: p50 \(format(latencies.percentile(50), 2)) ms, p99 \(format(latencies.percentile(99), 2)) ms",
            ])
    }
}
