import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

/// Numbers a client sends must never trap the process. Each request here aborted the server
/// before the fix (Swift traps on integer overflow); each must now get a 4xx and leave the
/// server serving.
@Suite("HTTP: overflowing numbers from clients")
struct OverflowRegressionTests {
    static let huge = String(Int64.max)

    @Test func contentRangeSpanningAllOfInt64IsRefused() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir) { client in
                let location = try #require(try await client.execute(uri: "/v2/a/blobs/uploads/", method: .post).headers[.location])
                let path = "/v2/" + v2Path(ofLocation: location)
                let range: HTTPFields = [.contentRange: "0-\(Self.huge)"]
                // On a live session, on a session that does not exist, and on the commit.
                for uri in [path, "/v2/a/blobs/uploads/00000000-0000-0000-0000-000000000000", "\(path)?digest=\(sha256([1]))"] {
                    let method: HTTPRequest.Method = uri.contains("?digest=") ? .put : .patch
                    let response = try await client.execute(uri: uri, method: method, headers: range, body: ByteBuffer(bytes: [1]))
                    #expect(response.status == .rangeNotSatisfiable, "\(method) \(uri): \(response.status)")
                    #expect(response.errorCode != nil, "an OCI error body")
                }
                // `bytes a-b/total` form with the same bounds, and a start past the end.
                let other = try await client.execute(
                    uri: path, method: .patch, headers: [.contentRange: "bytes 1-\(Self.huge)/*"], body: ByteBuffer(bytes: [1]))
                #expect(other.status == .rangeNotSatisfiable)
                // Still serving, and the session is untouched.
                #expect(try await client.execute(uri: "/v2/", method: .get).status == .ok)
                #expect(try await client.execute(uri: path, method: .get).headers[.range] == "0-0")
            }
        }
    }

    @Test func hugeContentLengthInAQuotaNamespaceIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir) { client, _, root in
                try await client.makeNamespace("team", root: root)
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":100000}").status == .ok)
                let blob = testBytes(1000, seed: 3)
                let stored = try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(blob))", as: root, body: blob)
                #expect(stored.status == .created)

                // A session with bytes in it, then a commit declaring a last chunk of Int64.max
                // bytes: offset + length overflowed in the quota check.
                let started = try await client.v2(.post, "team/app/blobs/uploads/", as: root)
                let path = v2Path(ofLocation: try #require(started.headers[.location]))
                let chunk = testBytes(10, seed: 4)
                #expect(try await client.v2(.patch, path, as: root, body: chunk).status == .accepted)
                let port = try #require(client.port)
                let commit = try await Self.rawRequest(
                    "PUT /v2/\(path)?digest=\(sha256(chunk + [0]))", contentLength: Self.huge, key: root, port: port)
                #expect(commit.hasPrefix("HTTP/1.1 403"), "\(commit)")
                #expect(commit.contains("\"DENIED\""))

                // A monolithic push declaring Int64.max bytes: the quota sum overflowed in SQLite (500).
                let monolithic = try await Self.rawRequest(
                    "POST /v2/team/app/blobs/uploads/?digest=\(sha256([9]))", contentLength: Self.huge, key: root, port: port)
                #expect(monolithic.hasPrefix("HTTP/1.1 403"), "\(monolithic)")
                #expect(monolithic.contains("\"DENIED\""))

                // Still serving; what was stored is still counted exactly.
                #expect(try await client.v2(.get, "", as: root).status == .ok)
                #expect(try await client.v2(.head, "team/app/blobs/\(sha256(blob))", as: root).status == .ok)
                let quota = try await client.admin(.get, "namespaces/team/quota", as: root)
                #expect(quota.json?["physicalBytes"] as? Int == blob.count)
            }
        }
    }

    /// The request goes over its own connection, with `Connection: close`: the server answers
    /// before the declared body arrives, and the client sends only two bytes of it.
    private static func rawRequest(_ line: String, contentLength: String, key: TestKey, port: Int) async throws -> String {
        let authorization = key.basic[.authorization] ?? ""
        let request = "\(line) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\n"
            + "Content-Length: \(contentLength)\r\nConnection: close\r\n\r\nab"
        return try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.1", port: port, request: request)
    }
}
