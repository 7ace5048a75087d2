import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraRegistry
import KuraServerTestSupport
import Testing
import KuraTestSupport

/// `Expect: 100-continue` (RFC 9110 §10.1.1): the server decides first, then either sends
/// `100 Continue` and reads the body, or its final status without reading the body.
@Suite("HTTP: Expect 100-continue")
struct ExpectContinueTests {
    private static let expectHeaders: [(String, String)] = [("Expect", "100-continue"), ("Content-Type", "application/octet-stream")]

    @Test func aClientThatWaitsGetsContinueAndItsBlobStored() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir) { client in
                let port = try #require(client.port)
                let blob = testBytes(3 << 20, seed: 41)
                let digest = sha256(blob)
                // Monolithic: POST ?digest= with the whole blob.
                try await RawHTTPConnection.with(port: port) { connection in
                    try await connection.sendHead(
                        "POST", "/v2/app/blobs/uploads/?digest=\(digest)", headers: Self.expectHeaders + [("Content-Length", "\(blob.count)")])
                    let interim = try await connection.readResponse()
                    #expect(interim.status == 100)
                    try await connection.send(blob)
                    let final = try await connection.readResponse()
                    #expect(final.status == 201)
                    #expect(final.header("Docker-Content-Digest") == digest.description)
                }
                #expect(try await client.execute(uri: "/v2/app/blobs/\(digest)", method: .get).bytes == blob)

                // As docker does: POST, one streamed PATCH and the PUT, on one connection, each waiting.
                let other = testBytes(2 << 20, seed: 42)
                try await RawHTTPConnection.with(port: port) { connection in
                    try await connection.sendHead("POST", "/v2/app/blobs/uploads/", headers: [("Content-Length", "0")])
                    let started = try await connection.readResponse()
                    #expect(started.status == 202)
                    let location = try #require(started.header("Location"))
                    let path = try #require(URL(string: location)).path
                    try await connection.sendHead("PATCH", path, headers: Self.expectHeaders + [("Content-Length", "\(other.count)")])
                    #expect(try await connection.readResponse().status == 100)
                    try await connection.send(other)
                    let patched = try await connection.readResponse()
                    #expect(patched.status == 202)
                    #expect(patched.header("Range") == "0-\(other.count - 1)")
                    try await connection.sendHead("PUT", "\(path)?digest=\(sha256(other))", headers: Self.expectHeaders + [("Content-Length", "0")])
                    // The PUT has no body: whatever it answers first, the last answer is 201.
                    var final = try await connection.readResponse()
                    if final.status == 100 { final = try await connection.readResponse() }
                    #expect(final.status == 201)
                }
                #expect(try await client.execute(uri: "/v2/app/blobs/\(sha256(other))", method: .get).bytes == other)
            }
        }
    }

    /// Sends a head announcing a large body and never the body; the final status must come
    /// without `100 Continue`, and the server must close the connection rather than wait.
    private func refusedWithoutBody(
        port: Int, _ method: String, _ target: String, length: Int = 64 << 20, extra: [(String, String)] = []
    ) async throws -> RawHTTPConnection.Response {
        try await RawHTTPConnection.with(port: port) { connection in
            try await connection.sendHead(method, target, headers: Self.expectHeaders + extra + [("Content-Length", "\(length)")])
            let headBytes = connection.bytesSent
            let response = try await connection.readResponse()
            #expect(response.status >= 400, "a final refusal, not \(response.status)")
            #expect(response.header("Connection")?.lowercased() == "close")
            #expect(try await connection.serverCloses(), "the server waited for a body it had refused")
            #expect(connection.bytesSent == headBytes, "no body byte was sent")
            return response
        }
    }

    @Test func anOversizedOrUnknownUploadIsRefusedBeforeItsBody() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, limits: RegistryLimits(maxBlobBytes: 1 << 20)) { client in
                let port = try #require(client.port)
                let digest = sha256(testBytes(10))
                let monolithic = try await refusedWithoutBody(port: port, "POST", "/v2/app/blobs/uploads/?digest=\(digest)")
                #expect(monolithic.status == 400)
                #expect(String(decoding: monolithic.body, as: UTF8.self).contains("SIZE_INVALID"))

                let unknown = try await refusedWithoutBody(port: port, "PATCH", "/v2/app/blobs/uploads/\(UUID().uuidString.lowercased())")
                #expect(unknown.status == 404)
                #expect(String(decoding: unknown.body, as: UTF8.self).contains("BLOB_UPLOAD_UNKNOWN"))

                // A chunk that would end past the limit, in a session that exists.
                let started = try await client.execute(uri: "/v2/app/blobs/uploads/", method: .post)
                let startedAt = try #require(started.headers[.location])
                let path = try #require(URL(string: startedAt)).path
                let chunk = try await refusedWithoutBody(
                    port: port, "PATCH", path, length: 1 << 19, extra: [("Content-Range", "\(1 << 20)-\((1 << 20) + (1 << 19) - 1)")])
                #expect(chunk.status == 400 || chunk.status == 416)

                let manifest = try await refusedWithoutBody(
                    port: port, "PUT", "/v2/app/manifests/v1", extra: [("Content-Type", MediaType.ociManifest)])
                #expect(manifest.status == 413)

                // The server still serves: a blob within the limit goes through.
                let fits = testBytes(4096, seed: 43)
                try await client.pushBlob(fits, to: "app")
            }
        }
    }

    @Test func anUnauthorisedUploadIsRefusedBeforeItsBody() async throws {
        try await withSecuredServer { client, root in
            let port = try #require(client.port)
            let digest = sha256(testBytes(10))
            let anonymous = try await refusedWithoutBody(port: port, "POST", "/v2/team/app/blobs/uploads/?digest=\(digest)")
            #expect(anonymous.status == 401)
            #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer ") == true)
            let badKey = try await refusedWithoutBody(
                port: port, "PATCH", "/v2/team/app/blobs/uploads/\(UUID().uuidString.lowercased())",
                extra: [("Authorization", "Basic " + Data("nobody:wrong".utf8).base64EncodedString())])
            #expect(badKey.status == 401)
        }
    }

    @Test func curlWithItsDefaultExpectIsNotHeldBack() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir) { client in
                let port = try #require(client.port)
                let blob = testBytes(4 << 20, seed: 44)
                let file = "\(dir)/blob"
                try Data(blob).write(to: URL(fileURLWithPath: file))
                // curl adds `Expect: 100-continue` to bodies over 1 MiB and, unanswered, waits
                // a second (here: up to 30) before sending each one.
                let result = try await ExternalProcess.run(
                    "/usr/bin/curl",
                    [
                        "-sS", "-v", "--fail", "--expect100-timeout", "30", "-X", "POST", "-H", "Content-Type: application/octet-stream",
                        "--data-binary", "@\(file)", "http://127.0.0.1:\(port)/v2/app/blobs/uploads/?digest=\(sha256(blob))",
                        "-o", "/dev/null", "-w", "%{http_code}",
                    ],
                    scratch: dir)
                #expect(result.stderr.contains("Expect: 100-continue"), "curl sent Expect")
                #expect(result.stderr.contains("HTTP/1.1 100 Continue"))
                #expect(!result.stderr.contains("Done waiting for 100-continue"))
                #expect(result.stdout == "201")
                #expect(try await client.execute(uri: "/v2/app/blobs/\(sha256(blob))", method: .get).bytes == blob)
            }
        }
    }
}
