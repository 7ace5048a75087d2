import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

/// What the pages show, read as HTML over HTTP by a signed-in root.
@Suite(.serialized)
struct ConsolePageTests {
    static func page(_ server: ConsoleServer, _ path: String, cookie: String) async throws -> (HTTPResponse.Status, String) {
        let response = try await server.client.execute(uri: path, method: .get, headers: [.cookie: cookie])
        return (response.status, String(buffer: response.body))
    }

    static func rootCookie(_ server: ConsoleServer) async throws -> String {
        let (_, session) = try await ConsoleSecurityTests.signIn(server, key: server.rootKey, secret: server.rootSecret)
        return try #require(session).cookie
    }

    @Test func anIndexListsItsPlatformsAndAManifestItsReferrers() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let amd = try await server.pushImage("team/app", tags: ["amd"], seed: 1)
            let arm = try await server.pushImage("team/app", tags: ["arm"], seed: 2)
            let size = { (digest: Digest) async throws -> Int in
                let response = try await server.client.execute(
                    uri: "/v2/team/app/manifests/\(digest)", method: .head, headers: [.authorization: server.rootAuthorization])
                return Int(response.headers[.contentLength] ?? "0") ?? 0
            }
            let index = """
                {"schemaVersion":2,"mediaType":"\(MediaType.ociIndex)","manifests":[\
                {"mediaType":"\(MediaType.ociManifest)","digest":"\(amd)","size":\(try await size(amd)),"platform":{"os":"linux","architecture":"amd64"}},\
                {"mediaType":"\(MediaType.ociManifest)","digest":"\(arm)","size":\(try await size(arm)),"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}
                """
            let indexDigest = try await server.pushManifest(index, mediaType: MediaType.ociIndex, to: "team/app", reference: "multi")
            // A signature-like artifact whose subject is the amd64 image.
            let empty = try await server.pushBlob(Array("{}".utf8), to: "team/app")
            let signature = """
                {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json",\
                "config":{"mediaType":"\(MediaType.ociEmpty)","digest":"\(empty)","size":2},"layers":[],\
                "subject":{"mediaType":"\(MediaType.ociManifest)","digest":"\(amd)","size":\(try await size(amd))}}
                """
            let signatureDigest = try await server.pushManifest(signature, mediaType: MediaType.ociManifest, to: "team/app", reference: "\(ContentHasher.digest(.sha256, of: ByteBuffer(string: signature)))")
            let cookie = try await Self.rootCookie(server)

            let (_, indexPage) = try await Self.page(server, "/repositories/team/app/-/manifests/multi", cookie: cookie)
            #expect(indexPage.contains("linux/amd64"))
            #expect(indexPage.contains("linux/arm64/v8"))
            #expect(indexPage.contains("href=\"/repositories/team/app/-/manifests/\(amd)\""))
            #expect(indexPage.contains("href=\"/repositories/team/app/-/manifests/\(arm)\""))
            #expect(indexPage.contains(indexDigest.description))

            let (_, imagePage) = try await Self.page(server, "/repositories/team/app/-/manifests/\(amd)", cookie: cookie)
            #expect(imagePage.contains("id=\"referrers\""))
            #expect(imagePage.contains("application/vnd.dev.cosign.artifact.sig.v1+json"))
            #expect(imagePage.contains(signatureDigest.description))
            #expect(imagePage.contains("id=\"layers\""))

            // The repository's tags table shows the index's platforms.
            let (_, repositoryPage) = try await Self.page(server, "/repositories/team/app", cookie: cookie)
            #expect(repositoryPage.contains("linux/amd64, linux/arm64/v8"))
        }
    }

    @Test func deletingByDigestNamesEveryTagThatGoes() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let digest = try await server.pushImage("team/app", tags: ["a", "b", "c"])
            try await server.pushImage("team/app", tags: ["other"], seed: 5)
            let cookie = try await Self.rootCookie(server)
            let (status, confirmation) = try await Self.page(server, "/repositories/team/app/-/delete?reference=\(digest)", cookie: cookie)
            #expect(status == .ok)
            for tag in ["a", "b", "c"] { #expect(confirmation.contains("<span class=\"badge removed\">\(tag)</span>")) }
            #expect(!confirmation.contains(">other<"))
            // Nothing has gone yet: the confirmation is a page, the deletion its form.
            #expect(try await server.manifestStatus("team/app", "a") == .ok)
            let csrf = try #require(ConsoleSecurityTests.hidden("csrf", in: confirmation))
            let response = try await ConsoleSecurityTests.post(
                server, "/repositories/team/app/-/delete", cookie: cookie, form: "csrf=\(csrf)&reference=\(digest)")
            #expect(response.status == .seeOther)
            for tag in ["a", "b", "c"] { #expect(try await server.manifestStatus("team/app", tag) == .notFound) }
            #expect(try await server.manifestStatus("team/app", "other") == .ok)
            // The audit log names who deleted it.
            let audit = try await server.client.execute(
                uri: "/api/v1/audit?action=manifest.delete", method: .get, headers: [.authorization: server.rootAuthorization])
            #expect(String(buffer: audit.body).contains("\"account\":\"root\""))
        }
    }

    @Test func namespacePagesFilterAndPaginate() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            // 52 repositories: a page of 50 and a second one.
            for index in 0..<52 { try await server.pushImage(String(format: "team/svc%02d", index), tags: ["v1"], seed: UInt64(index)) }
            let cookie = try await Self.rootCookie(server)
            let (_, first) = try await Self.page(server, "/namespaces/team", cookie: cookie)
            #expect(first.components(separatedBy: "<tr data-name=").count - 1 == 50)
            let next = try #require(first.range(of: "id=\"next-page\"").flatMap { _ in
                first.range(of: "href=\"/namespaces/team?q=&amp;after=")
            })
            #expect(first[next.upperBound...].hasPrefix("team%2Fsvc49"))
            let (_, second) = try await Self.page(server, "/namespaces/team?after=team%2Fsvc49", cookie: cookie)
            #expect(second.components(separatedBy: "<tr data-name=").count - 1 == 2)
            #expect(second.contains("team/svc51") && !second.contains("team/svc49\""))
            let (_, filtered) = try await Self.page(server, "/namespaces/team?q=svc1", cookie: cookie)
            #expect(filtered.components(separatedBy: "<tr data-name=").count - 1 == 10)
        }
    }
}
