import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

/// Webhooks delivered to a real HTTP server on 127.0.0.1: signed with the secret, retried
/// after a 500, never showing the secret back.
@Suite struct WebhookTests {
    /// A receiver that answers 500 to the first delivery and 200 after.
    actor Receiver {
        struct Delivery {
            var body: [UInt8]
            var signature: String?
            var event: String?
            var deliveryID: String?
        }

        var deliveries: [Delivery] = []

        func receive(_ delivery: Delivery) -> HTTPResponse.Status {
            deliveries.append(delivery)
            return deliveries.count == 1 ? .internalServerError : .ok
        }
    }

    @Test func pushIsDeliveredSignedAndRetriedAfter500() async throws {
        let receiver = Receiver()
        let secret = "s3cret-for-the-test"
        let clock = ManualClock()
        try await withWebhookReceiver({ body, headers in
            await receiver.receive(
                .init(
                    body: body, signature: headers[HTTPField.Name("Kura-Signature")!], event: headers[HTTPField.Name("Kura-Event")!],
                    deliveryID: headers[HTTPField.Name("Kura-Delivery")!]))
        }) { port in
            try await withTemporaryDirectory { dir in
                try await withMeteredServer(dataDirectory: dir, mode: .router, configure: { $0.webhooks.initialBackoffMilliseconds = 100 }, clock: clock) { client, services, root in
                    let dispatcher = try #require(services.registry.events.sinks(of: WebhookDispatcher.self).first)
                    try await client.makeNamespace("team", root: root)
                    let ci = try await client.makeAccount("ci", root: root, grants: [("team", "manager")])
                    // Bad input is refused and stores nothing.
                    for bad in [
                        "{\"url\":\"ftp://x/\",\"secret\":\"a\"}", "{\"url\":\"http://127.0.0.1:\(port)/hook\",\"secret\":\"\"}",
                        "{\"url\":\"http://127.0.0.1:\(port)/hook\",\"secret\":\"a\",\"events\":[\"nope\"]}",
                    ] {
                        #expect(try await client.admin(.post, "namespaces/team/webhooks", as: ci, json: bad).status == .badRequest)
                    }
                    #expect(try await client.admin(.get, "namespaces/team/webhooks", as: ci).body.readableBytes == 2, "[]")
                    let created = try await client.admin(
                        .post, "namespaces/team/webhooks", as: ci,
                        json: "{\"url\":\"http://127.0.0.1:\(port)/hook\",\"secret\":\"\(secret)\",\"events\":[\"push\"]}")
                    #expect(created.status == .created)
                    let listed = try await client.admin(.get, "namespaces/team/webhooks", as: ci)
                    #expect(!String(buffer: listed.body).contains(secret), "the secret is never shown")
                    #expect(!String(buffer: created.body).contains(secret))

                    let config = testBytes(200, seed: 41)
                    try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: ci, body: config).expectStatus(.created)
                    let manifest = TestManifests.image(config: config, layers: [])
                    try await client.v2(.put, "team/app/manifests/v1", as: ci, headers: [.contentType: MediaType.ociManifest], body: manifest)
                        .expectStatus(.created)
                    // A pull is not subscribed: no delivery for it.
                    try await client.v2(.get, "team/app/manifests/v1", as: ci).expectStatus(.ok)

                    var deliveries: [Receiver.Delivery] = []
                    for _ in 0..<1000 {
                        deliveries = await receiver.deliveries
                        if deliveries.count >= 2 { break }
                        // The retry waits 100 ms of the manual clock: once the 500 is in, that time passes.
                        if deliveries.count == 1, clock.sleeperCount > 0 { clock.advance(by: .milliseconds(100)) }
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    // Every event has been dealt with and nothing more came: the retry succeeded, and
                    // the pull is not subscribed.
                    _ = try await Poll.until("the dispatcher has no work left", timeout: .seconds(30)) { dispatcher.pendingWork == 0 ? true : nil }
                    deliveries = await receiver.deliveries
                    #expect(deliveries.count == 2, "one 500, then one retry that succeeded; nothing for the pull")
                    guard deliveries.count == 2 else { return }
                    #expect(deliveries[0].body == deliveries[1].body, "the retry sends the same event")
                    #expect(deliveries[0].deliveryID == deliveries[1].deliveryID)
                    for delivery in deliveries {
                        let expected = HMAC<SHA256>.authenticationCode(for: delivery.body, using: SymmetricKey(data: Data(secret.utf8)))
                        #expect(delivery.signature == "sha256=" + expected.map { String(format: "%02x", $0) }.joined())
                        #expect(delivery.event == "push")
                    }
                    let event = try #require(try JSONSerialization.jsonObject(with: Data(deliveries[1].body)) as? [String: Any])
                    #expect(event["event"] as? String == "push")
                    #expect(event["repository"] as? String == "team/app")
                    #expect(event["reference"] as? String == "v1")
                    #expect(event["digest"] as? String == sha256(manifest).description)
                    #expect(event["accessKeyID"] as? String == ci.id)
                    // A wrong secret would not verify.
                    let forged = HMAC<SHA256>.authenticationCode(for: deliveries[1].body, using: SymmetricKey(data: Data("other".utf8)))
                    #expect(deliveries[1].signature != "sha256=" + forged.map { String(format: "%02x", $0) }.joined())

                    // Deleting the webhook stops deliveries.
                    let id = try #require(created.json?["id"] as? String)
                    #expect(try await client.admin(.delete, "namespaces/team/webhooks/\(id)", as: ci).status == .noContent)
                    #expect(try await client.admin(.delete, "namespaces/team/webhooks/\(id)", as: ci).status == .notFound)
                    try await client.v2(.put, "team/app/manifests/v2", as: ci, headers: [.contentType: MediaType.ociManifest], body: manifest)
                        .expectStatus(.created)
                    _ = try await Poll.until("the dispatcher has no work left", timeout: .seconds(30)) { dispatcher.pendingWork == 0 ? true : nil }
                    #expect(await receiver.deliveries.count == 2)
                }
            }
        }
    }

    /// A receiver that records every delivery and answers 200.
    actor Recorder {
        var bodies: [[UInt8]] = []
        func receive(_ body: [UInt8]) { bodies.append(body) }
    }

    @Test func pullsAndJobRunsAreDeliveredWhenSubscribed() async throws {
        let clock = ManualClock()
        try await Self.withRecordingReceiver { port, recorder in
            try await withTemporaryDirectory { dir in
                try await withMeteredServer(dataDirectory: dir, mode: .router, configure: { $0.gc = .init(enabled: true, intervalSeconds: 3600) }, clock: clock) { client, _, root in
                    try await client.makeNamespace("team", root: root)
                    let created = try await client.admin(
                        .post, "namespaces/team/webhooks", as: root,
                        json: "{\"url\":\"http://127.0.0.1:\(port)/hook\",\"secret\":\"k\",\"events\":[\"pull\",\"job\"]}")
                    #expect(created.status == .created)
                    let config = testBytes(100, seed: 51)
                    try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
                    let manifest = TestManifests.image(config: config, layers: [])
                    try await client.v2(.put, "team/app/manifests/v1", as: root, headers: [.contentType: MediaType.ociManifest], body: manifest)
                        .expectStatus(.created)
                    try await client.v2(.get, "team/app/manifests/v1", as: root).expectStatus(.ok)
                    try await client.v2(.head, "team/app/manifests/v1", as: root).expectStatus(.ok)

                    var events: [[String: Any]] = []
                    for _ in 0..<1000 {
                        events = await recorder.bodies.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
                        if events.contains(where: { $0["event"] as? String == "job" }) && events.contains(where: { $0["event"] as? String == "pull" }) { break }
                        // An hour of the manual clock: the scheduled collection runs.
                        clock.advance(by: .seconds(3600))
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    let pulls = events.filter { $0["event"] as? String == "pull" }
                    #expect(pulls.count == 1, "the GET, not the HEAD; no push (not subscribed)")
                    #expect(pulls.first?["digest"] as? String == sha256(manifest).description)
                    #expect(!events.contains { $0["event"] as? String == "push" })
                    let job = try #require(events.first { $0["event"] as? String == "job" })
                    #expect(job["job"] as? String == "gc")
                    #expect((job["summary"] as? [String: Any])?["run"] != nil)
                }
            }
        }
    }
}
