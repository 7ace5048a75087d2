import Foundation
import HummingbirdTesting
import KuraCore
import KuraMetadata
import KuraServerTestSupport
import KuraTestSupport
import Testing

/// The usage flush samples each namespace's stored bytes as the day's figure: on its first
/// tick, then once an hour (counted in flush intervals on the server's clock).
@Suite struct StorageSamplingTests {
    @Test func theUsageFlushSamplesStoredBytesOnStartAndThenHourly() async throws {
        let clock = ManualClock()
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, configure: { $0.usage.flushIntervalSeconds = 60 }, clock: clock) { client, services, root in
                try await client.makeNamespace("team", root: root)
                let first = testBytes(300, seed: 5), second = testBytes(500, seed: 6)
                try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(first))", as: root, body: first).expectStatus(.created)
                let today = StorageSample.dayStart(of: Date())
                // Around today, so a test running over midnight still finds its samples.
                func sampled() async throws -> [Int64] {
                    try await services.registry.catalog.usage.storageSamples(
                        namespace: "team", from: today.addingTimeInterval(-86_400), to: today.addingTimeInterval(2 * 86_400)
                    ).map(\.physicalBytes)
                }
                #expect(try await sampled().isEmpty)
                #expect(await clock.waitForSleepers(), "the usage flush runs on the clock")
                await clock.advanceAndSettle(by: .seconds(60))
                #expect(try await sampled() == [300], "the first tick samples")

                try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(second))", as: root, body: second).expectStatus(.created)
                for _ in 0..<59 { await clock.advanceAndSettle(by: .seconds(60)) }
                #expect(try await sampled() == [300], "not again within the hour")
                await clock.advanceAndSettle(by: .seconds(60))
                #expect(try await sampled() == [800], "an hour later: the day's sample replaced")
            }
        }
    }
}
