@testable import KuraHTTP
import KuraCore
import KuraServerTestSupport
import Testing

@Suite("V2Endpoint and HTTP ranges")
struct V2EndpointTests {
    private func name(_ s: String) throws -> RepositoryName { try RepositoryName(parsing: s) }

    @Test func parsesEveryEndpoint() throws {
        let hex = "sha256:" + String(repeating: "a", count: 64)
        #expect(try V2Endpoint(path: "/v2/") == .base)
        #expect(try V2Endpoint(path: "/v2") == .base)
        #expect(try V2Endpoint(path: "/v2/_catalog") == .catalog)
        #expect(try V2Endpoint(path: "/v2/a/b/tags/list") == .tags(try name("a/b")))
        #expect(try V2Endpoint(path: "/v2/a/manifests/v1") == .manifest(try name("a"), reference: "v1"))
        #expect(try V2Endpoint(path: "/v2/a/blobs/\(hex)") == .blob(try name("a"), digest: hex))
        #expect(try V2Endpoint(path: "/v2/a/b/blobs/uploads/") == .uploads(try name("a/b")))
        #expect(try V2Endpoint(path: "/v2/a/b/blobs/uploads") == .uploads(try name("a/b")))
        #expect(try V2Endpoint(path: "/v2/a/blobs/uploads/xyz") == .upload(try name("a"), id: "xyz"))
        #expect(try V2Endpoint(path: "/v2/a/referrers/\(hex)") == .referrers(try name("a"), digest: hex))
    }

    @Test func namesMayContainEndpointWords() throws {
        #expect(try V2Endpoint(path: "/v2/blobs/manifests/manifests/v1") == .manifest(try name("blobs/manifests"), reference: "v1"))
        #expect(try V2Endpoint(path: "/v2/x/blobs/y/blobs/uploads/") == .uploads(try name("x/blobs/y")))
        #expect(try V2Endpoint(path: "/v2/tags/list/tags/list") == .tags(try name("tags/list")))
    }

    @Test func rejectsBadNamesAndUnknownPaths() throws {
        let error = #expect(throws: RegistryError.self) { try V2Endpoint(path: "/v2/UPPER/tags/list") }
        #expect(error?.code == .nameInvalid)
        #expect(throws: RegistryError.self) { try V2Endpoint(path: "/v2/a/../b/manifests/v1") }
        #expect(throws: RegistryError.self) { try V2Endpoint(path: "/v2//manifests/v1") }
        #expect(try V2Endpoint(path: "/v2/a/unknown/x") == nil)
        #expect(try V2Endpoint(path: "/v3/a/manifests/x") == nil)
        #expect(try V2Endpoint(path: "/v2/a/manifests/") == nil)
    }

    @Test func uploadContentRanges() {
        #expect(HTTPRanges.uploadContentRange("0-1023")! == (0, 1024))
        #expect(HTTPRanges.uploadContentRange("bytes 10-19/100")! == (10, 10))
        #expect(HTTPRanges.uploadContentRange("5-5")! == (5, 1))
        for bad in ["", "-", "5-4", "a-b", "-3", "3-", "1-2-3"] {
            #expect(HTTPRanges.uploadContentRange(bad) == nil, "\(bad)")
        }
    }

    @Test func requestRanges() {
        #expect(HTTPRanges.request(nil, size: 10) == .whole)
        #expect(HTTPRanges.request("bytes=0-0", size: 10) == .partial(0..<1))
        #expect(HTTPRanges.request("bytes=9-", size: 10) == .partial(9..<10))
        #expect(HTTPRanges.request("bytes=5-100", size: 10) == .partial(5..<10))
        #expect(HTTPRanges.request("bytes=-3", size: 10) == .partial(7..<10))
        #expect(HTTPRanges.request("bytes=-30", size: 10) == .partial(0..<10))
        #expect(HTTPRanges.request("bytes=10-", size: 10) == .unsatisfiable)
        #expect(HTTPRanges.request("bytes=0-1,3-4", size: 10) == .whole)
        #expect(HTTPRanges.request("items=0-1", size: 10) == .whole)
    }
}
