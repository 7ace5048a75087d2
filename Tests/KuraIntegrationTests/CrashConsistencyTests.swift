import Foundation
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` of `kura serve` at random moments under concurrent pushers: after each restart
/// every acknowledged blob and manifest is there and verifies, and scrub is clean at the end.
@Suite("Crash consistency", .serialized)
struct CrashConsistencyTests {
    /// What the server acknowledged, across rounds.
    final class Ledger: Sendable {
        private let state = Mutex<(blobs: Set<String>, images: [ImagePusher.Pushed])>(([], []))
        func blob(_ repository: String, _ digest: Digest) { _ = state.withLock { $0.blobs.insert("\(repository)@\(digest)") } }
        func image(_ image: ImagePusher.Pushed) { state.withLock { $0.images.append(image) } }
        var blobs: Set<String> { state.withLock { $0.blobs } }
        var images: [ImagePusher.Pushed] { state.withLock { $0.images } }
    }

    @Test func killNineUnderConcurrentPushesLosesNothingAcknowledged() async throws {
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            let ledger = Ledger()
            var generator = SystemRandomNumberGenerator()
            let rounds = 3
            for round in 0..<rounds {
                let server = try ServeProcessTests.Server(data: data, environment: ["KURA_ACCESS_ENABLED": "false"])
                try await server.waitUntilServing()
                var pusher = ImagePusher(base: "http://127.0.0.1:\(server.port)")
                // Everything acknowledged in earlier rounds survived the crash.
                for image in ledger.images { try await pusher.verify(image) }
                for entry in ledger.blobs {
                    let parts = entry.split(separator: "@")
                    try await pusher.verifyBlob(try Digest(parsing: String(parts[1])), in: String(parts[0]))
                }
                pusher.onBlobAcknowledged = { ledger.blob($0, $1) }
                let roundPusher = pusher
                let pushers = (0..<4).map { worker in
                    Task {
                        var index = 0
                        while !Task.isCancelled {
                            let seed = UInt64(round * 1_000_000 + worker * 10_000 + index)
                            guard let image = try? await roundPusher.push("crash/w\(worker)", tag: "r\(round)-\(index)", seed: seed, layerSize: 256 << 10) else {
                                return  // the server died under this push
                            }
                            ledger.image(image)
                            index += 1
                        }
                    }
                }
                // The kill comes at a random moment after the round's first acknowledged image
                // (a loaded machine may take seconds for it), so every round crashes pushes in flight.
                let before = ledger.images.count
                try await Poll.until("an image acknowledged in round \(round)", timeout: .seconds(120)) {
                    ledger.images.count > before ? true : nil
                }
                let moment = Int.random(in: 0...1200, using: &generator)
                try await Task.sleep(for: .milliseconds(moment))
                server.process.signal(SIGKILL)
                await server.process.wait()
                for task in pushers { await task.value }
                print("crash round \(round): kill -9 \(moment) ms after the round's first image; \(ledger.images.count) images, \(ledger.blobs.count) blobs acknowledged so far")
            }
            // A last start verifies the final round, then scrub checks every stored byte.
            let server = try ServeProcessTests.Server(data: data, environment: ["KURA_ACCESS_ENABLED": "false"])
            try await server.waitUntilServing()
            let pusher = ImagePusher(base: "http://127.0.0.1:\(server.port)")
            for image in ledger.images { try await pusher.verify(image) }
            #expect(ledger.images.count > 0, "no push was acknowledged at all")
            _ = await server.stop()
            let scrub = try await runKura(["scrub", "--data", data, "--json"], scratch: scratch)
            #expect(scrub.status == 0, "scrub after the crashes: \(scrub.stdout)")
        }
    }
}
