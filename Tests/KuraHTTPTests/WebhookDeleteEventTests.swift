import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import NIOCore
import Testing

/// Delete events carry the digest (issue 19): of the manifest a deleted tag pointed at, or of
/// the manifest deleted by digest; the DELETE answer says it too (`Docker-Content-Digest`).
@Suite struct WebhookDeleteEventTests {
    @Test func tagAndManifestDeletesCarryTheDigest() async throws {
        try await WebhookTests.withRecordingReceiver { port, recorder in
            try await withTemporaryDirectory { dir in
                try await withMeteredServer(dataDirectory: dir) { client, _, root in
                    try await client.makeNamespace("team", root: root)
                    let created = try await client.admin(
                        .post, "namespaces/team/webhooks", as: root,
                        json: "{\"url\":\"http://127.0.0.1:\(port)/hook\",\"secret\":\"k\",\"events\":[\"delete\"]}")
                    #expect(created.status == .created)
                    let config = testBytes(120, seed: 61)
                    try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
                    let manifest = TestManifests.image(config: config, layers: [])
                    for tag in ["v1", "v2"] {
                        try await client.v2(.put, "team/app/manifests/\(tag)", as: root, headers: [.contentType: MediaType.ociManifest], body: manifest)
                            .expectStatus(.created)
                    }
                    let tagDelete = try await client.v2(.delete, "team/app/manifests/v1", as: root)
                    try tagDelete.expectStatus(.accepted)
                    #expect(tagDelete.headers[.testDockerContentDigest] == sha256(manifest).description)
                    try await client.v2(.delete, "team/app/manifests/\(sha256(manifest))", as: root).expectStatus(.accepted)

                    var events: [[String: Any]] = []
                    for _ in 0..<100 {
                        events = await recorder.bodies.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
                        if events.count >= 2 { break }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    #expect(events.count == 2)
                    #expect(events.map { $0["event"] as? String } == ["delete", "delete"])
                    #expect(Set(events.compactMap { $0["reference"] as? String }) == ["v1", sha256(manifest).description])
                    for event in events {
                        #expect(event["digest"] as? String == sha256(manifest).description, "delete of \(event["reference"] ?? "?") carries the digest")
                    }
                }
            }
        }
    }
}

extension WebhookTests {
    /// A webhook receiver on 127.0.0.1 that records every delivery and answers 204; `body`
    /// gets its port.
    static func withRecordingReceiver(_ body: @escaping @Sendable (Int, Recorder) async throws -> Void) async throws {
        let recorder = Recorder()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            var request = request
            await recorder.receive(Array(try await request.collectBody(upTo: 1 << 20).readableBytesView))
            return Response(status: .noContent)
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { hookClient in
            try await body(try #require(hookClient.port), recorder)
        }
    }
}
