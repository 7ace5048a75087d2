import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
@testable import KuraServe
import NIOCore
import Testing

@Suite("Scheduled garbage collection in the server")
struct ScheduledGCTests {
    @Test func theServerCollectsOnItsScheduleAndRecordsRuns() async throws {
        try await withTemporaryDirectory { dir in
            // Every hour of a manual clock, with no grace period, so one round finds the orphan.
            let schedule = ServerConfiguration.GarbageCollectionSchedule(enabled: true, intervalSeconds: 3600, graceSeconds: 0)
            let clock = ManualClock()
            try await withLiveServer(dataDirectory: dir, mode: .router, access: .init(enabled: true), gc: schedule, clock: clock) { client, services in
                let root = try #require(services.rootCredentials)
                let key = TestKey(id: root.accessKeyID, secret: root.secretKey)
                #expect(try await client.admin(.post, "namespaces", as: key, json: "{\"name\":\"team\"}").status == .created)
                // A blob no manifest refers to: garbage once the (zero) grace period passes.
                let orphan = testBytes(4096, seed: 42)
                let push = try await client.execute(
                    uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(orphan))", method: .post, headers: key.basic,
                    body: ByteBuffer(bytes: orphan))
                #expect(push.status == .created)
                let listJobs = { try await client.admin(.get, "jobs?kind=gc", as: key) }
                #expect(String(buffer: try await listJobs().body) == "[]", "no run before the interval has passed")
                var freed = false
                for _ in 0..<500 where !freed {
                    // The hour passes (again, if the run had not started sleeping yet); then the run is polled for.
                    clock.advance(by: .seconds(3600))
                    try await Task.sleep(for: .milliseconds(10))
                    let jobs = try await listJobs()
                    let runs = (try? JSONSerialization.jsonObject(with: Data(jobs.body.readableBytesView))) as? [[String: Any]] ?? []
                    freed = runs.contains { ($0["summary"] as? String)?.contains("\"blobsFreed\":1") == true }
                }
                #expect(freed, "a recorded gc run freed the orphan")
                let gone = try await client.execute(uri: "/v2/team/app/blobs/\(sha256(orphan))", method: .head, headers: key.basic)
                #expect(gone.status == .notFound)
                // Job runs are for admins only.
                let viewer = try await client.makeAccount("viewer", root: key, grants: [("team", "viewer")])
                #expect(try await client.admin(.get, "jobs", as: viewer).status == .forbidden)
            }
        }
    }
}
