import Benchmark
import Foundation
import KuraCore
import KuraStorage
import NIOCore

// Storage-engine benchmarks. Throughput is reported through `.throughput` (operations per
// second, one operation = one MiB where noted) so results read as MiB/s.

private let mebibyte = 1 << 20

private func randomBuffer(_ size: Int) -> ByteBuffer {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    var buffer = ByteBuffer()
    buffer.reserveCapacity(size)
    for _ in 0..<(size / 8) {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        buffer.writeInteger(state)
    }
    return buffer
}

/// `count` repetitions of one buffer, as an async body.
private struct Repeated: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffer: ByteBuffer
    let count: Int
    struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: ByteBuffer
        var left: Int
        mutating func next() async -> ByteBuffer? {
            guard left > 0 else { return nil }
            left -= 1
            return buffer
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer, left: count) }
}

private func scratch(_ name: String) -> String {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(base)/kura-bench-\(name)-\(UUID().uuidString)"
}

let benchmarks: @Sendable () -> Void = {
    let source = randomBuffer(mebibyte)
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .peakMemoryResident]

    // One operation = hashing 1 MiB.
    Benchmark("sha256 1 MiB", configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(3))) { benchmark in
        var hasher = ContentHasher(.sha256)
        for _ in benchmark.scaledIterations { hasher.update(source) }
        blackHole(hasher.finalize())
    }

    // One operation = ingesting 1 MiB: stream → hash → file → fsync → rename (tmpfs).
    Benchmark("ingest 256 MiB monolithic", configuration: .init(metrics: metrics, scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 5)) { benchmark in
        let root = scratch("ingest")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = BlobStore(backend: try FileSystemBackend(root: root))
        benchmark.startMeasurement()
        blackHole(try await store.ingest(Repeated(buffer: source, count: 256)))
        benchmark.stopMeasurement()
    }

    Benchmark("ingest 256 MiB in 16 MiB chunks", configuration: .init(metrics: metrics, scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 5)) { benchmark in
        let root = scratch("chunked")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = BlobStore(backend: try FileSystemBackend(root: root))
        var hasher = ContentHasher(.sha256)
        for _ in 0..<256 { hasher.update(source) }
        let digest = hasher.finalize()
        benchmark.startMeasurement()
        let session = try await store.startUpload()
        for chunk in 0..<16 {
            _ = try await store.appendUpload(session.id, at: Int64(chunk * 16 * mebibyte), body: Repeated(buffer: source, count: 16))
        }
        blackHole(try await store.commitUpload(session.id, expected: digest, lastChunk: Optional<Repeated>.none))
        benchmark.stopMeasurement()
    }

    // One operation = reading a 1 MiB range out of a 64 MiB blob.
    Benchmark("ranged read 1 MiB of 64 MiB", configuration: .init(metrics: metrics, scalingFactor: .one, maxDuration: .seconds(3))) { benchmark in
        let root = scratch("read")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = BlobStore(backend: try FileSystemBackend(root: root, durability: .none))
        let info = try await store.ingest(Repeated(buffer: source, count: 64))
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let start = Int64((i * 7919) % 63) * Int64(mebibyte) + 12_345
            let read = try await store.read(info.digest, range: start..<(start + Int64(mebibyte)))
            for try await chunk in read.body { blackHole(chunk) }
        }
        benchmark.stopMeasurement()
    }
}
