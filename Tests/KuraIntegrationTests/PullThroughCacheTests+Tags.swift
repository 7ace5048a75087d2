import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import Testing

extension PullThroughCacheTests {
    private struct TagList: Decodable {
        var name: String
        var tags: [String]
    }

    private func tagList(_ client: any TestClientProtocol, _ query: String = "") async throws -> (TestResponse, [String]?) {
        let response = try await client.execute(uri: "/v2/hub/bad/app/tags/list\(query)", method: .get)
        guard response.status == .ok else { return (response, nil) }
        return (response, try JSONDecoder().decode(TagList.self, from: Data(response.bytes)).tags)
    }

    @Test
    func tagListsComeFromTheUpstreamMergedWithCachedTagsAndFromTheCacheDuringAnOutage() async throws {
        let upstream = FaultySourceRegistry(tags: ["1", "2", "latest"])
        try await withTemporaryDirectory { data in
            let port = try await upstream.serve { port in
                try await withLiveServer(dataDirectory: data, access: .init(enabled: false), proxies: [try proxy(port)]) { client, services in
                    #expect(try await tagList(client).1 == ["1", "2", "latest"], "nothing cached: the upstream's tags")
                    #expect(try await client.manifestBytes("hub/bad/app", "1") == upstream.manifest)
                    try await waitUntilCached(services.registry, "1", in: "hub/bad/app")
                    let local = try await client.pushManifest(upstream.manifest, mediaType: MediaType.ociManifest, to: "hub/bad/app", reference: "mine")
                    #expect(local.status == .created)
                    #expect(try await tagList(client).1 == ["1", "2", "latest", "mine"], "upstream and cached tags merged")
                    let (page, tags) = try await tagList(client, "?n=2&last=1")
                    #expect(tags == ["2", "latest"])
                    #expect(page.headers[.testLink] == "</v2/hub/bad/app/tags/list?n=2&last=latest>; rel=\"next\"")
                    let unknown = try await client.execute(uri: "/v2/hub/bad/nothing/tags/list", method: .get)
                    #expect(unknown.status == .notFound, "unknown on both sides")
                }
                return port
            }
            // The upstream is gone: the cached tags answer.
            try await withLiveServer(dataDirectory: data, access: .init(enabled: false), proxies: [try proxy(port)]) { client, _ in
                #expect(try await tagList(client).1 == ["1", "mine"])
                let unknown = try await client.execute(uri: "/v2/hub/bad/nothing/tags/list", method: .get)
                #expect(unknown.status == .notFound)
            }
        }
    }
}
