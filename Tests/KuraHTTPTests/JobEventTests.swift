import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraMetadata
import KuraRegistry
@testable import KuraServe
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

/// Tags deleted by retention and manifests deleted by garbage collection are audited and
/// delivered to `delete` webhooks like a client's deletes, naming the job instead of an
/// account.
@Suite struct JobEventTests {
    actor Recorder {
        var bodies: [[UInt8]] = []
        func receive(_ body: [UInt8]) { bodies.append(body) }
    }

    static func events(_ bodies: [[UInt8]], job: String) -> [[String: Any]] {
        bodies.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }.filter { $0["job"] as? String == job }
    }

    @Test func retentionAndCollectionDeletionsAreAuditedAndDelivered() async throws {
        let recorder = Recorder()
        try await withWebhookReceiver({ body, _ in
            await recorder.receive(body)
            return .noContent
        }) { port in
            try await withTemporaryDirectory { dir in
                try await withMeteredServer(dataDirectory: dir, mode: .router) { client, services, root in
                    try await client.makeNamespace("team", root: root)
                    let created = try await client.admin(
                        .post, "namespaces/team/webhooks", as: root,
                        json: "{\"url\":\"http://127.0.0.1:\(port)/hook\",\"secret\":\"k\",\"events\":[\"delete\"]}")
                    #expect(created.status == .created)
                    // Two tagged images, and one pushed by digest only (untagged).
                    var digests: [String: String] = [:]
                    for (index, reference) in ["old", "new", "loose"].enumerated() {
                        let config = testBytes(100, seed: UInt64(60 + index))
                        try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
                        let manifest = TestManifests.image(config: config, layers: [])
                        let digest = sha256(manifest).description
                        digests[reference] = digest
                        try await client.v2(
                            .put, "team/app/manifests/\(reference == "loose" ? digest : reference)", as: root,
                            headers: [.contentType: MediaType.ociManifest], body: manifest
                        ).expectStatus(.created)
                        await Poll.nextMillisecond()  // distinct push times
                    }
                    let store = services.registry.catalog.retention
                    try await store.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 1))
                    // What the scheduler runs, run here so the test does not wait for it.
                    let untagged = try await RetentionEvaluator(registry: services.registry).run(dryRun: false)
                    #expect(untagged.map(\.tag) == ["old"])
                    var options = GarbageCollectionOptions()
                    options.gracePeriod = 0
                    options.deleteUntagged = true
                    options.untaggedAge = 0
                    let summary = try await GarbageCollector(registry: services.registry, options: options).run()
                    #expect(summary.manifestsDeleted == 1, "the loose manifest (retention deleted the one it untagged)")

                    let retentionAudit = try await client.admin(.get, "audit?action=retention.tag.delete", as: root)
                    let retentionRecords = try #require(retentionAudit.jsonArray)
                    #expect(retentionRecords.count == 1)
                    #expect(retentionRecords.first?["repository"] as? String == "team/app")
                    #expect((retentionRecords.first?["detail"] as? String)?.hasPrefix("old \(digests["old"]!)") == true)
                    #expect(retentionRecords.first?["account"] == nil, "a job, not an account")
                    let gcAudit = try #require(try await client.admin(.get, "audit?action=gc.manifest.delete", as: root).jsonArray)
                    let collected = Set(gcAudit.compactMap { ($0["detail"] as? String)?.split(separator: " ").first.map(String.init) })
                    #expect(collected == [digests["loose"]!])
                    let retained = try #require(try await client.admin(.get, "audit?action=retention.manifest.delete", as: root).jsonArray)
                    #expect(retained.compactMap { ($0["detail"] as? String)?.split(separator: " ").first.map(String.init) } == [digests["old"]!])

                    // Waited for (5 s at most), then checked exactly.
                    let awaited = try? await Poll.until("the retention and gc delete events", timeout: .seconds(5)) { () async -> [[UInt8]]? in
                        let bodies = await recorder.bodies
                        return Self.events(bodies, job: "retention").count >= 2 && Self.events(bodies, job: "gc").count >= 1 ? bodies : nil
                    }
                    let bodies = if let awaited { awaited } else { await recorder.bodies }
                    let retentionEvents = Self.events(bodies, job: "retention")
                    let gcEvents = Self.events(bodies, job: "gc")
                    #expect(retentionEvents.count == 2 && gcEvents.count == 1, "retention: the tag and its manifest; gc: the loose manifest")
                    #expect(retentionEvents.allSatisfy { $0["event"] as? String == "delete" && $0["digest"] as? String == digests["old"]! })
                    #expect(retentionEvents.contains { $0["reference"] as? String == "old" })
                    #expect(gcEvents.compactMap { $0["digest"] as? String } == [digests["loose"]!])
                    #expect(gcEvents.allSatisfy { $0["event"] as? String == "delete" && $0["repository"] as? String == "team/app" })
                }
            }
        }
    }
}
