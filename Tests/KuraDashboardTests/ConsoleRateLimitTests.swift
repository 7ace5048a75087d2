import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraTestSupport
import NIOCore
import Testing

/// Console pages draw on the request-rate buckets of `/v2/` and `/api/v1/`: per access key
/// once a session names it, per source address before any work. The server runs on a
/// manual clock, so no bucket refills between requests however slow the machine is.
@Suite(.serialized)
struct ConsoleRateLimitTests {
    @Test func pagesAreLimitedPerKeySharingTheAPIBudget() async throws {
        let clock = ManualClock()
        try await withConsoleServer(configure: { $0.requestRates = .init(perKeyPerMinute: 6) }, serverClock: clock) { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let (key, secret) = try await server.account("ci", role: "viewer", on: "team")
            // Signing in takes nothing from the key; the first page (GET / in signIn) takes one of six.
            let (_, signedIn) = try await ConsoleSecurityTests.signIn(server, key: key, secret: secret)
            let session = try #require(signedIn)
            for _ in 0..<4 { #expect(try await page(server, "/namespaces/team", session).status == .ok) }
            let v2 = try await server.client.execute(
                uri: "/v2/team/app/tags/list", method: .get, headers: [.authorization: server.basic(key, secret)])
            #expect(v2.status == .notFound, "the 6th request, on /v2/")
            let limited = try await page(server, "/namespaces/team", session)
            #expect(limited.status == .tooManyRequests)
            let retry = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...10).contains(retry), "one request refills in 10 s at 6 per minute")
            #expect(String(buffer: limited.body).contains("rate limit"))
            // A form POST over the limit changes nothing.
            let form = try await server.client.execute(
                uri: "/sign-out", method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=\(session.csrf)"))
            #expect(form.status == .tooManyRequests)
            // Another key's budget is its own: root (4 requests of setup so far) still browses.
            let (_, rootSession) = try await ConsoleSecurityTests.signIn(server, key: server.rootKey, secret: server.rootSecret)
            #expect(try await page(server, "/namespaces/team", try #require(rootSession)).status == .ok)
            // 10 s on the server's clock refill one request, and the session is still signed in.
            clock.advance(by: .seconds(10))
            #expect(try await page(server, "/namespaces/team", session).status == .ok)
            #expect(try await page(server, "/namespaces/team", session).status == .tooManyRequests)
        }
    }

    @Test func pagesAndSignInAreLimitedPerAddressBeforeAnyWork() async throws {
        try await withConsoleServer(configure: { $0.requestRates = .init(perAddressPerMinute: 3) }, serverClock: ManualClock()) { server in
            #expect(try await server.client.execute(uri: "/sign-in", method: .get).status == .ok)
            #expect(try await server.client.execute(uri: "/", method: .get).status == .ok)
            #expect(try await server.client.execute(uri: "/namespaces/none", method: .get).status == .notFound)
            let limited = try await server.client.execute(uri: "/sign-in", method: .get)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(limited.headers[.contentSecurityPolicy] != nil, "a refusal carries the security headers too")
            // The sign-in POST is refused before its token or credentials are looked at.
            let post = try await server.client.execute(
                uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "access_key_id=\(server.rootKey)&secret_key=\(server.rootSecret)"))
            #expect(post.status == .tooManyRequests)
            // The static files (no catalog work) are not counted.
            #expect(try await server.client.execute(uri: "/static/console.css", method: .get).status == .ok)
        }
    }

    private func page(_ server: ConsoleServer, _ path: String, _ session: ConsoleSecurityTests.FormSession) async throws -> TestResponse {
        try await server.client.execute(uri: path, method: .get, headers: [.cookie: session.cookie])
    }
}
