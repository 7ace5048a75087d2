import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// JSON that parsers read differently is refused at the API, before anything is stored.
@Suite("HTTP: strict JSON bodies")
struct StrictJSONAPITests {
    /// The manifest lists the stored layer first and a missing one last: Kura read the first
    /// list and stored it; skopeo and docker read the last and failed with 404 on the layer.
    @Test func manifestWithLayersTwiceIsRefusedAndNotStored() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir) { client in
                let config = Array("{}".utf8), layer = testBytes(64, seed: 7), missing = testBytes(64, seed: 8)
                try await client.pushBlob(config, to: "app")
                try await client.pushBlob(layer, to: "app")
                let stored = TestManifests.image(config: config, layers: [layer])
                let lastList = "\"layers\":[{\"mediaType\":\"\(MediaType.ociLayerGzip)\",\"digest\":\"\(sha256(missing))\",\"size\":64}]"
                let twice = Array((String(decoding: stored.dropLast(), as: UTF8.self) + "," + lastList + "}").utf8)
                let response = try await client.pushManifest(twice, mediaType: MediaType.ociManifest, to: "app", reference: "v1")
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "MANIFEST_INVALID")
                #expect(String(buffer: response.body).contains("duplicate key"))
                #expect(try await client.execute(uri: "/v2/app/manifests/v1", method: .get).status == .notFound)
                #expect(try await client.execute(uri: "/v2/app/manifests/\(sha256(twice))", method: .get).status == .notFound)
                // The honest manifest is still accepted.
                #expect(try await client.pushManifest(stored, mediaType: MediaType.ociManifest, to: "app", reference: "v1").status == .created)
            }
        }
    }

    @Test func adminBodyWithDuplicateKeysIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir) { client, _, root in
                let response = try await client.admin(.post, "namespaces", as: root, json: "{\"name\":\"a\",\"name\":\"b\"}")
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("duplicate key"))
                let listed = String(buffer: try await client.admin(.get, "namespaces", as: root).body)
                #expect(!listed.contains("\"a\"") && !listed.contains("\"b\""), "\(listed)")
                var headers = root.basic
                headers[.contentType] = "application/json"
                let invalidUTF8 = try await client.execute(
                    uri: "/api/v1/namespaces", method: .post, headers: headers,
                    body: ByteBuffer(bytes: Array("{\"name\":\"a".utf8) + [0xC3, 0x28] + Array("\"}".utf8)))
                #expect(invalidUTF8.status == .badRequest)
            }
        }
    }
}
