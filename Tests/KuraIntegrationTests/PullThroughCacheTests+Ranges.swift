import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import Testing

extension PullThroughCacheTests {
    @Test
    func aRangeOfABlobNotCachedYetIsServedExactly() async throws {
        let upstream = FaultySourceRegistry()
        try await upstream.serve { port in
            try await withTemporaryDirectory { data in
                try await withLiveServer(dataDirectory: data, access: .init(enabled: false), proxies: [try proxy(port)]) { client, services in
                    let digest = sha256(upstream.layer)
                    let size = upstream.layer.count
                    let first = try await client.execute(uri: "/v2/hub/bad/app/blobs/\(digest)", method: .get, headers: [.range: "bytes=1000-1999"])
                    #expect(first.status == .partialContent)
                    #expect(first.bytes == Array(upstream.layer[1000..<2000]))
                    #expect(first.headers[.contentRange] == "bytes 1000-1999/\(size)")
                    #expect(first.headers[.contentLength] == "1000")
                    let tail = try await client.execute(uri: "/v2/hub/bad/app/blobs/\(digest)", method: .get, headers: [.range: "bytes=-10"])
                    #expect(tail.status == .partialContent)
                    #expect(tail.bytes == Array(upstream.layer[(size - 10)...]))
                    #expect(upstream.layerRequests == 1, "fetched once, then served from the store")
                    let unknown = try await client.execute(
                        uri: "/v2/hub/bad/app/blobs/\(sha256([1, 2, 3]))", method: .get, headers: [.range: "bytes=0-1"])
                    #expect(unknown.status == .notFound)
                    let repository = try RepositoryName(parsing: "hub/bad/app")
                    #expect(await (try? services.registry.blobInfo(digest, in: repository)) != nil, "stored")
                }
            }
        }
    }
}
