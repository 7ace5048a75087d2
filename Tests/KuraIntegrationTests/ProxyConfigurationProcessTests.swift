import Foundation
import KuraServerTestSupport
import Testing

/// `proxies:` settings of `kura serve`'s YAML, read by a real process.
@Suite("kura serve proxies configuration", .serialized)
struct ProxyConfigurationProcessTests {
    func writeConfiguration(_ path: String, fillWindowBytes: Int) throws {
        try """
            proxies:
              - namespace: hub
                upstream: http://127.0.0.1:9
                fillWindowBytes: \(fillWindowBytes)
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test
    func aFillWindowIsReadAndANonPositiveOneIsRefused() async throws {
        try await withTemporaryDirectory { scratch in
            let config = "\(scratch)/kura.yaml"
            try writeConfiguration(config, fillWindowBytes: 0)
            let refused = try ServeProcessTests.Server(
                data: "\(scratch)/refused", environment: ["KURA_ACCESS_ENABLED": "false"], arguments: ["--config", config])
            for _ in 0..<300 where refused.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!refused.process.isRunning, "a bad setting stops kura serve")
            let status = await refused.stop()
            #expect(status != 0)
            #expect(refused.stderr.contains("proxies.hub.fillWindowBytes must be positive"), "\(refused.stderr)")

            try writeConfiguration(config, fillWindowBytes: 1 << 20)
            let accepted = try ServeProcessTests.Server(
                data: "\(scratch)/accepted", environment: ["KURA_ACCESS_ENABLED": "false"], arguments: ["--config", config])
            try await accepted.waitUntilServing()
            #expect(await accepted.stop() == 0)
        }
    }
}
