import ArgumentParser
import Foundation
import KuraCore
import KuraStorage
import NIOCore

struct BenchHashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Hash bytes in memory with the hasher the store uses (the ceiling for ingest)."
    )

    @Option(help: "Bytes to hash.") var size: ByteSize = ByteSize(bytes: 1 << 30)
    @Option(help: "sha256 or sha512.") var algorithm: String = "sha256"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let algorithm = DigestAlgorithm(rawValue: algorithm) else {
            throw ValidationError("unknown algorithm \(algorithm)")
        }
        let source = RepeatedBufferSequence.randomBuffer(size: 1 << 20)
        let start = ContinuousClock.now
        var hasher = ContentHasher(algorithm)
        var remaining = size.bytes
        while remaining > 0 {
            let count = Int(min(Int64(source.readableBytes), remaining))
            hasher.update(source.getSlice(at: 0, length: count)!)
            remaining -= Int64(count)
        }
        let digest = hasher.finalize()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(size.bytes) / seconds / 1e6
        if json {
            let object: [String: Any] = [
                "benchmark": "hash", "algorithm": algorithm.rawValue, "bytes": size.bytes, "seconds": seconds,
                "megabytesPerSecond": rate, "digest": digest.description,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("\(algorithm.rawValue) of \(size): \(String(format: "%.0f", rate)) MB/s")
        }
    }
}
