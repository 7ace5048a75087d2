import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

@Suite("HTTP: restarts")
struct RestartTests {
    @Test func aChunkedUploadResumesAfterARestart() async throws {
        try await withTemporaryDirectory { dir in
            let bytes = testBytes(3_000_000)
            // First server: open a session and send the first chunk, then shut down.
            let location = try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let start = try await client.execute(uri: "/v2/big/blobs/uploads/", method: .post)
                let location = try #require(start.headers[.location])
                let first = try await client.execute(
                    uri: location, method: .patch, headers: [.contentRange: "0-1199999"], body: ByteBuffer(bytes: bytes[0..<1_200_000]))
                #expect(first.status == .accepted)
                return try #require(first.headers[.location])
            }
            // Second server over the same data folder: the client asks where it stands and resumes.
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let status = try await client.execute(uri: location, method: .get)
                #expect(status.status == .noContent)
                #expect(status.headers[.range] == "0-1199999")
                let second = try await client.execute(
                    uri: location, method: .patch, headers: [.contentRange: "1200000-2999999"], body: ByteBuffer(bytes: bytes[1_200_000...]))
                #expect(second.status == .accepted)
                let done = try await client.execute(uri: "\(second.headers[.location]!)?digest=\(sha256(bytes))", method: .put)
                #expect(done.status == .created)
                let get = try await client.execute(uri: "/v2/big/blobs/\(sha256(bytes))", method: .get)
                #expect(get.bytes == bytes)
            }
        }
    }
}
