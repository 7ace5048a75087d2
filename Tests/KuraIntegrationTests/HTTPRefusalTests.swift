import AsyncHTTPClient
import Foundation
import KuraCore
import KuraHTTP
import KuraServe
import KuraServerTestSupport
import NIOCore
import Testing

/// What the HTTP layer refuses before a route runs still gets an OCI error body, and paths
/// that only look like a repository's are not served as one.
@Suite("HTTP refusals")
struct HTTPRefusalTests {
    static func configuration(_ data: String) -> ServerConfiguration {
        var configuration = ServerConfiguration(dataDirectory: data, access: .init(enabled: false), gc: .init(enabled: false))
        configuration.listeners = [ListenerConfiguration(name: "main", host: "127.0.0.1", port: 0)]
        return configuration
    }

    /// The status code and the first OCI error code of a raw HTTP answer.
    static func parse(_ answer: String) -> (status: Int?, code: String?) {
        let status = answer.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
        guard let start = answer.range(of: "\r\n\r\n")?.upperBound,
            let object = try? JSONSerialization.jsonObject(with: Data(answer[start...].utf8)) as? [String: Any],
            let errors = object["errors"] as? [[String: Any]]
        else { return (status, nil) }
        return (status, errors.first?["code"] as? String)
    }

    @Test(arguments: [
        ("bad request line", "GARBAGE\r\n\r\n", 400),
        ("oversized head", "GET /v2/ HTTP/1.1\r\nHost: kura\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n", 431),
        ("oversized URL", "GET /v2/\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: kura\r\n\r\n", 431),
        ("conflicting Transfer-Encoding and Content-Length",
         "POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: kura\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
        ("negative Content-Length", "POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: kura\r\nContent-Length: -1\r\n\r\n", 400),
        ("unparseable Content-Length", "POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: kura\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        ("OPTIONS", "OPTIONS /v2/ HTTP/1.1\r\nHost: kura\r\nConnection: close\r\n\r\n", 404),
        ("TRACE", "TRACE /v2/team/app/manifests/latest HTTP/1.1\r\nHost: kura\r\nConnection: close\r\n\r\n", 404),
        ("unknown path", "GET /nothing/here HTTP/1.1\r\nHost: kura\r\nConnection: close\r\n\r\n", 404),
    ])
    func refusalHasAnOCIErrorBody(_ name: String, _ request: String, _ expected: Int) async throws {
        try await withTemporaryDirectory { data in
            try await withListeners(Self.configuration(data)) { ports, _, _ in
                let answer = try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.1", port: try #require(ports["main"]), request: request)
                let (status, code) = Self.parse(answer)
                #expect(status == expected, "\(name): \(answer.prefix(300))")
                #expect(code != nil, "\(name): no OCI error body in \(answer.prefix(300))")
            }
        }
    }

    @Test func doubleSlashAfterV2IsNotARepository() async throws {
        try await withTemporaryDirectory { data in
            try await withLiveServer(dataDirectory: data) { client in
                try await client.pushBlob(testBytes(10), to: "bad/app")
                let digest = sha256(testBytes(10))
                #expect(try await client.execute(uri: "/v2/bad/app/blobs/\(digest)", method: .get).status == .ok)
                let response = try await client.execute(uri: "/v2//bad/app/blobs/\(digest)", method: .get)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "NAME_INVALID")
            }
        }
    }
}
