import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

@Suite("HTTP: blobs and uploads")
struct BlobAPITests {
    @Test func baseEndpointAnswers() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let response = try await client.execute(uri: "/v2/", method: .get)
                #expect(response.status == .ok)
                #expect(response.headers[.testAPIVersion] == "registry/2.0")
            }
        }
    }

    @Test func monolithicPushThenHeadGetAndRanges() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let bytes = testBytes(100_000)
                let digest = sha256(bytes)
                let push = try await client.execute(
                    uri: "/v2/team/app/blobs/uploads/?digest=\(digest)", method: .post, body: ByteBuffer(bytes: bytes))
                #expect(push.status == .created)
                #expect(push.headers[.location] == "http://localhost/v2/team/app/blobs/\(digest)", "absolute, on the Host the client sent")
                #expect(push.headers[.testDockerContentDigest] == digest.description)

                let head = try await client.execute(uri: "/v2/team/app/blobs/\(digest)", method: .head)
                #expect(head.status == .ok)
                #expect(head.headers[.contentLength] == "100000")
                #expect(head.body.readableBytes == 0)
                let get = try await client.execute(uri: "/v2/team/app/blobs/\(digest)", method: .get)
                #expect(get.status == .ok)
                #expect(get.bytes == bytes)

                let ranged = try await client.execute(uri: "/v2/team/app/blobs/\(digest)", method: .get, headers: [.range: "bytes=99990-"])
                #expect(ranged.status == .partialContent)
                #expect(ranged.headers[.contentRange] == "bytes 99990-99999/100000")
                #expect(ranged.bytes == Array(bytes[99_990...]))
                let outside = try await client.execute(uri: "/v2/team/app/blobs/\(digest)", method: .get, headers: [.range: "bytes=100000-"])
                #expect(outside.status == .rangeNotSatisfiable)
                #expect(outside.headers[.contentRange] == "bytes */100000")

                // Not linked into another repository.
                let elsewhere = try await client.execute(uri: "/v2/other/blobs/\(digest)", method: .get)
                #expect(elsewhere.status == .notFound)
                #expect(elsewhere.errorCode == "BLOB_UNKNOWN")

                let delete = try await client.execute(uri: "/v2/team/app/blobs/\(digest)", method: .delete)
                #expect(delete.status == .accepted)
                let gone = try await client.execute(uri: "/v2/team/app/blobs/\(digest)", method: .get)
                #expect(gone.status == .notFound)
                #expect(gone.errorCode == "BLOB_UNKNOWN")
            }
        }
    }

    @Test func monolithicPushWithWrongDigestStoresNothing() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let bytes = testBytes(5000)
                let wrong = sha256(testBytes(5000, seed: 2))
                let push = try await client.execute(
                    uri: "/v2/repo/blobs/uploads/?digest=\(wrong)", method: .post, body: ByteBuffer(bytes: bytes))
                #expect(push.status == .badRequest)
                #expect(push.errorCode == "DIGEST_INVALID")
                for digest in [wrong, sha256(bytes)] {
                    #expect(try await client.execute(uri: "/v2/repo/blobs/\(digest)", method: .head).status == .notFound)
                }
            }
        }
    }

    @Test func chunkedUploadWithOutOfOrderChunkAndStatus() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let bytes = testBytes(30_000)
                let start = try await client.execute(uri: "/v2/repo/blobs/uploads/", method: .post)
                #expect(start.status == .accepted)
                #expect(start.headers[.range] == "0-0")
                #expect(start.headers[.testOCIChunkMinLength] != nil)
                let location = try #require(start.headers[.location])
                #expect(start.headers[.testDockerUploadUUID].map { location.hasSuffix($0) } == true)

                let first = try await client.execute(
                    uri: location, method: .patch,
                    headers: [.contentRange: "0-9999", .contentLength: "10000", .contentType: "application/octet-stream"],
                    body: ByteBuffer(bytes: bytes[0..<10_000]))
                #expect(first.status == .accepted)
                #expect(first.headers[.range] == "0-9999")
                let next = try #require(first.headers[.location])

                // A chunk that skips ahead is refused with 416 and the session is unchanged.
                let skipped = try await client.execute(
                    uri: next, method: .patch, headers: [.contentRange: "20000-29999", .contentLength: "10000"],
                    body: ByteBuffer(bytes: bytes[20_000...]))
                #expect(skipped.status == .rangeNotSatisfiable)
                #expect(skipped.headers[.range] == "0-9999")
                let status = try await client.execute(uri: next, method: .get)
                #expect(status.status == .noContent)
                #expect(status.headers[.range] == "0-9999")

                // A streamed chunk (no Content-Range) continues at the offset.
                let streamed = try await client.execute(uri: next, method: .patch, body: ByteBuffer(bytes: bytes[10_000..<20_000]))
                #expect(streamed.status == .accepted)
                #expect(streamed.headers[.range] == "0-19999")

                let done = try await client.execute(
                    uri: "\(next)?digest=\(sha256(bytes))", method: .put,
                    headers: [.contentRange: "20000-29999", .contentLength: "10000"], body: ByteBuffer(bytes: bytes[20_000...]))
                #expect(done.status == .created)
                #expect(done.headers[.location] == "http://localhost/v2/repo/blobs/\(sha256(bytes))")
                #expect(try await client.execute(uri: "/v2/repo/blobs/\(sha256(bytes))", method: .get).bytes == bytes)
                let finished = try await client.execute(uri: next, method: .get)
                #expect(finished.status == .notFound)
                #expect(finished.errorCode == "BLOB_UPLOAD_UNKNOWN")
            }
        }
    }

    @Test func wrongDigestOnCloseIsRefusedAndNothingAppears() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let bytes = testBytes(4096)
                let wrong = sha256(Array(bytes.reversed()))
                let location = try #require(try await client.execute(uri: "/v2/repo/blobs/uploads/", method: .post).headers[.location])
                let put = try await client.execute(uri: "\(location)?digest=\(wrong)", method: .put, body: ByteBuffer(bytes: bytes))
                #expect(put.status == .badRequest)
                #expect(put.errorCode == "DIGEST_INVALID")
                for digest in [wrong, sha256(bytes)] {
                    #expect(try await client.execute(uri: "/v2/repo/blobs/\(digest)", method: .head).status == .notFound)
                }
                // The session still exists and is at offset 0.
                #expect(try await client.execute(uri: location, method: .get).headers[.range] == "0-0")
            }
        }
    }

    @Test func cancelAndForeignSessions() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let location = try #require(try await client.execute(uri: "/v2/one/blobs/uploads/", method: .post).headers[.location])
                let id = String(location.split(separator: "/").last!)
                // The session belongs to `one`; `two` cannot see or use it.
                let foreign = try await client.execute(uri: "/v2/two/blobs/uploads/\(id)", method: .patch, body: ByteBuffer(bytes: [1]))
                #expect(foreign.status == .notFound)
                #expect(foreign.errorCode == "BLOB_UPLOAD_UNKNOWN")
                let made = try await client.execute(uri: "/v2/one/blobs/uploads/not-a-uuid", method: .get)
                #expect(made.status == .notFound)
                #expect(try await client.execute(uri: location, method: .delete).status == .noContent)
                let after = try await client.execute(uri: location, method: .get)
                #expect(after.status == .notFound)
                #expect(after.errorCode == "BLOB_UPLOAD_UNKNOWN")
            }
        }
    }

    @Test func badInputGetsFourHundredsNeverFiveHundreds() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let cases: [(String, HTTPRequest.Method, HTTPFields, String?, HTTPResponse.Status)] = [
                    ("/v2/UPPER/blobs/uploads/", .post, [:], "NAME_INVALID", .badRequest),
                    ("/v2/a/blobs/sha256:..", .get, [:], "DIGEST_INVALID", .badRequest),
                    ("/v2/a/blobs/sha256:../../etc", .get, [:], nil, .notFound),
                    ("/v2/a/blobs/md5:abc", .head, [:], nil, .badRequest),
                    ("/v2/a/blobs/uploads/?digest=sha256:zz", .post, [:], "DIGEST_INVALID", .badRequest),
                    ("/v2/a/blobs/uploads/?digest-algorithm=md5", .post, [:], "DIGEST_INVALID", .badRequest),
                    ("/v2/a/manifests/sha256:abc", .get, [:], "DIGEST_INVALID", .badRequest),
                    ("/v2/a/manifests/-bad-tag", .get, [:], "MANIFEST_UNKNOWN", .notFound),
                    ("/v2/a/tags/list", .get, [:], "NAME_UNKNOWN", .notFound),
                    ("/v2/a/tags/list?n=-1", .get, [:], nil, .badRequest),
                    ("/v2/a/referrers/nope", .get, [:], "DIGEST_INVALID", .badRequest),
                    ("/v2/a/nothing/here", .get, [:], nil, .notFound),
                ]
                for (uri, method, headers, code, status) in cases {
                    let response = try await client.execute(uri: uri, method: method, headers: headers)
                    #expect(response.status == status, "\(method) \(uri)")
                    if let code { #expect(response.errorCode == code, "\(method) \(uri)") }
                }
                // Malformed Content-Range on a chunk.
                let location = try #require(try await client.execute(uri: "/v2/a/blobs/uploads/", method: .post).headers[.location])
                let bad = try await client.execute(uri: location, method: .patch, headers: [.contentRange: "x-y"], body: ByteBuffer(bytes: [1]))
                #expect(bad.status == .rangeNotSatisfiable)
                let disagree = try await client.execute(
                    uri: location, method: .patch, headers: [.contentRange: "0-9", .contentLength: "1"], body: ByteBuffer(bytes: [1]))
                #expect(disagree.status == .rangeNotSatisfiable)
                #expect(try await client.execute(uri: location, method: .get).headers[.range] == "0-0")
            }
        }
    }

    @Test func crossRepositoryMount() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let digest = try await client.pushBlob(testBytes(777), to: "source")
                let mounted = try await client.execute(uri: "/v2/target/blobs/uploads/?mount=\(digest)&from=source", method: .post)
                #expect(mounted.status == .created)
                #expect(mounted.headers[.location] == "http://localhost/v2/target/blobs/\(digest)")
                #expect(try await client.execute(uri: "/v2/target/blobs/\(digest)", method: .get).bytes == testBytes(777))
                let automatic = try await client.execute(uri: "/v2/third/blobs/uploads/?mount=\(digest)", method: .post)
                #expect(automatic.status == .created)
                // The wrong source, or an unknown blob: a session instead.
                let wrongSource = try await client.execute(uri: "/v2/fourth/blobs/uploads/?mount=\(digest)&from=nowhere", method: .post)
                #expect(wrongSource.status == .accepted)
                #expect(wrongSource.headers[.location]?.contains("/blobs/uploads/") == true)
                let unknown = try await client.execute(uri: "/v2/fourth/blobs/uploads/?mount=\(sha256([9]))&from=source", method: .post)
                #expect(unknown.status == .accepted)
            }
        }
    }

    @Test func sha512Blobs() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let bytes = testBytes(20_000)
                let digest = ContentHasher.digest(.sha512, of: bytes)
                let start = try await client.execute(uri: "/v2/repo/blobs/uploads/?digest-algorithm=sha512", method: .post)
                let location = try #require(start.headers[.location])
                let patch = try await client.execute(uri: location, method: .patch, headers: [.contentRange: "0-19999"], body: ByteBuffer(bytes: bytes))
                let next = try #require(patch.headers[.location])
                let put = try await client.execute(uri: "\(next)?digest=\(digest)", method: .put)
                #expect(put.status == .created)
                #expect(put.headers[.testDockerContentDigest] == digest.description)
                #expect(try await client.execute(uri: "/v2/repo/blobs/\(digest)", method: .get).bytes == bytes)
                let other = testBytes(123, seed: 3)
                let mono = try await client.execute(
                    uri: "/v2/repo/blobs/uploads/?digest=\(ContentHasher.digest(.sha512, of: other))", method: .post, body: ByteBuffer(bytes: other))
                #expect(mono.status == .created)
            }
        }
    }
}

import KuraStorage

@Suite("HTTP: health")
struct HealthTests {
    @Test func healthAndReadiness() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router, access: .init(enabled: true)) { client, _ in
                let health = try await client.execute(uri: "/healthz", method: .get)
                #expect(health.status == .ok)
                let ready = try await client.execute(uri: "/readyz", method: .get)
                #expect(ready.status == .ok)
                #expect(ready.json?["catalog"] as? String == "ok")
                #expect(ready.json?["storage"] as? String == "ok")
                // Storage gone: not ready, and says which part.
                try FileManager.default.removeItem(atPath: "\(dir)/storage")
                try "not a folder".write(toFile: "\(dir)/storage", atomically: true, encoding: .utf8)
                let broken = try await client.execute(uri: "/readyz", method: .get)
                #expect(broken.status == .serviceUnavailable)
                #expect(broken.json?["storage"] as? String == "unavailable")
                #expect(broken.json?["catalog"] as? String == "ok")
            }
        }
    }
}
