import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraHTTP
import NIOCore
import Testing

@Suite("Scheduled garbage collection in the server")
struct ScheduledGCTests {
    @Test func theServerCollectsOnItsScheduleAndRecordsRuns() async throws {
        try await withTemporaryDirectory { dir in
            // Every second, with no grace period, so one round finds the orphan.
            let schedule = ServerConfiguration.GarbageCollectionSchedule(enabled: true, intervalSeconds: 1, graceSeconds: 0)
            try await withLiveServer(dataDirectory: dir, access: .init(enabled: true), gc: schedule) { client, services in
                let root = try #require(services.rootCredentials)
                let key = TestKey(id: root.accessKeyID, secret: root.secretKey)
                #expect(try await client.admin(.post, "namespaces", as: key, json: "{\"name\":\"team\"}").status == .created)
                // A blob no manifest refers to: garbage once the (zero) grace period passes.
                let orphan = testBytes(4096, seed: 42)
                let push = try await client.execute(
                    uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(orphan))", method: .post, headers: key.basic,
                    body: ByteBuffer(bytes: orphan))
                #expect(push.status == .created)
                var freed = false
                for _ in 0..<50 where !freed {
                    try await Task.sleep(for: .milliseconds(200))
                    let jobs = try await client.admin(.get, "jobs?kind=gc", as: key)
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
