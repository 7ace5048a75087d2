import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraMetadata
import KuraTestSupport
import NIOCore
import Testing

/// The console's defences over plain HTTP: session cookies, CSRF tokens, security headers,
/// login limits, and what anonymous visitors see.
@Suite(.serialized)
struct ConsoleSecurityTests {
    /// A browser-like session: signs in through the form and keeps the cookie and the token.
    struct FormSession {
        var cookie: String
        var csrf: String
        var setCookie: String
    }

    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func signIn(_ server: ConsoleServer, key: String, secret: String, headers: HTTPFields = [:]) async throws -> (TestResponse, FormSession?) {
        let form = try await server.client.execute(uri: "/sign-in", method: .get, headers: headers)
        let signInCookie = form.headers[values: .setCookie].first { $0.hasPrefix("kura_sign_in=") }?.split(separator: ";").first.map(String.init) ?? ""
        let token = hidden("csrf", in: String(buffer: form.body)) ?? ""
        var post = headers
        post[.cookie] = signInCookie
        post[.contentType] = "application/x-www-form-urlencoded"
        let response = try await server.client.execute(
            uri: "/sign-in", method: .post, headers: post,
            body: ByteBuffer(string: "csrf=\(token)&next=%2F&access_key_id=\(key)&secret_key=\(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"))
        guard let setCookie = response.headers[values: .setCookie].first(where: { $0.hasPrefix("kura_session=") }) else { return (response, nil) }
        let cookie = String(setCookie.split(separator: ";")[0])
        let home = try await server.client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
        return (response, FormSession(cookie: cookie, csrf: hidden("csrf", in: String(buffer: home.body)) ?? "", setCookie: setCookie))
    }

    static func post(_ server: ConsoleServer, _ path: String, cookie: String, form: String) async throws -> TestResponse {
        try await server.client.execute(
            uri: path, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: form))
    }

    static func shortDescription(_ server: ConsoleServer) async throws -> String {
        let response = try await server.client.execute(
            uri: "/api/v1/repositories/team/app/description", method: .get, headers: [.authorization: server.rootAuthorization])
        let json = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return json?["short"] as? String ?? ""
    }

    @Test func sessionCookieIsHttpOnlyAndSameSiteStrict() async throws {
        try await withConsoleServer(trustedProxies: [try NetworkRange(parsing: "127.0.0.1/32")]) { server in
            let (response, session) = try await Self.signIn(server, key: server.rootKey, secret: server.rootSecret)
            #expect(response.status == .seeOther)
            let flags = try #require(session).setCookie
            #expect(flags.contains("; HttpOnly"))
            #expect(flags.contains("; SameSite=Strict"))
            #expect(flags.contains("; Path=/"))
            #expect(!flags.contains("Secure"), "plain HTTP")
            // Behind a trusted TLS-terminating proxy the cookie is Secure.
            let (_, tls) = try await Self.signIn(server, key: server.rootKey, secret: server.rootSecret, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(try #require(tls).setCookie.contains("; Secure"))
        }
    }

    @Test func pagesCarryTheSecurityHeaders() async throws {
        try await withConsoleServer { server in
            for path in ["/", "/sign-in", "/namespaces/nothing", "/static/console.js"] {
                let response = try await server.client.execute(uri: path, method: .get)
                let policy = response.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("script-src 'self'"), "\(path)")
                #expect(!policy.contains("unsafe-inline"), "\(path)")
                #expect(policy.contains("frame-ancestors 'none'"), "\(path)")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(path)")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(path)")
            }
            // No inline script anywhere: every <script> has a src.
            let page = String(buffer: try await server.client.execute(uri: "/sign-in", method: .get).body)
            #expect(page.components(separatedBy: "<script").count == page.components(separatedBy: "<script src=").count)
        }
    }

    @Test func postsWithoutOrWithAStaleCSRFTokenAreRefused() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.pushImage("team/app", tags: ["v1"])
            let (_, first) = try await Self.signIn(server, key: server.rootKey, secret: server.rootSecret)
            let session = try #require(first)
            #expect(!session.csrf.isEmpty)
            // No token, an empty one, another session's token: 403, nothing changes.
            let (_, other) = try await Self.signIn(server, key: server.rootKey, secret: server.rootSecret)
            let stale = try #require(other).csrf
            for form in ["short=changed", "csrf=&short=changed", "csrf=\(stale)&short=changed"] {
                let response = try await Self.post(server, "/repositories/team/app/-/description", cookie: session.cookie, form: form)
                #expect(response.status == .forbidden, "\(form)")
            }
            for form in ["reference=v1", "csrf=\(stale)&reference=v1"] {
                #expect(try await Self.post(server, "/repositories/team/app/-/delete", cookie: session.cookie, form: form).status == .forbidden)
            }
            #expect(try await Self.shortDescription(server) == "")
            #expect(try await server.manifestStatus("team/app", "v1") == .ok)
            // A token from before sign-out is stale once signed in again.
            #expect(try await Self.post(server, "/sign-out", cookie: session.cookie, form: "csrf=\(session.csrf)").status == .seeOther)
            let (_, again) = try await Self.signIn(server, key: server.rootKey, secret: server.rootSecret)
            let renewed = try #require(again)
            #expect(try await Self.post(server, "/repositories/team/app/-/description", cookie: renewed.cookie, form: "csrf=\(session.csrf)&short=changed").status == .forbidden)
            // The right token works (the refusals above were for the token, not the form).
            #expect(try await Self.post(server, "/repositories/team/app/-/description", cookie: renewed.cookie, form: "csrf=\(renewed.csrf)&short=changed").status == .seeOther)
            #expect(try await Self.shortDescription(server) == "changed")
            // The sign-in form's own token: a POST without it is refused before any credential check.
            let bare = try await server.client.execute(
                uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "access_key_id=\(server.rootKey)&secret_key=\(server.rootSecret)"))
            #expect(bare.status == .forbidden)
        }
    }

    @Test func failedSignInsCountTowardTheLoginLimit() async throws {
        try await withConsoleServer(loginFailuresPerKey: 3) { server in
            for _ in 0..<3 {
                let (response, session) = try await Self.signIn(server, key: server.rootKey, secret: "wrong")
                #expect(response.status == .unauthorized)
                #expect(session == nil)
            }
            // The right secret is refused now too, as `docker login` would be.
            let (limited, session) = try await Self.signIn(server, key: server.rootKey, secret: server.rootSecret)
            #expect(limited.status == .tooManyRequests)
            #expect(session == nil)
            let basic = try await server.client.execute(uri: "/v2/", method: .get, headers: [.authorization: server.rootAuthorization])
            #expect(basic.status == .tooManyRequests)
            // And the failures are in the audit log.
            let failures = try await #require(server.services.access).store.auditEvents(AuditQuery(action: "login.failure"))
            #expect(failures.count == 3)
        }
    }

    @Test func anonymousVisitorsSeeOnlyPublicNamespaces() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"open\",\"public\":true}")
            try await server.admin(.post, "namespaces", "{\"name\":\"closed\"}")
            try await server.pushImage("open/app", tags: ["v1"])
            try await server.pushImage("closed/secret", tags: ["v1"], seed: 3)
            let home = String(buffer: try await server.client.execute(uri: "/", method: .get).body)
            #expect(home.contains("/namespaces/open"))
            #expect(!home.contains("closed"))
            #expect(try await server.client.execute(uri: "/repositories/open/app", method: .get).status == .ok)
            let hidden = try await server.client.execute(uri: "/repositories/closed/secret", method: .get)
            #expect(hidden.status == .forbidden || hidden.status == .notFound)
            #expect(!String(buffer: hidden.body).contains("v1"))
            #expect(try await server.client.execute(uri: "/namespaces/closed", method: .get).status == .notFound)
            // Anonymous POSTs are refused.
            #expect(try await Self.post(server, "/repositories/open/app/-/delete", cookie: "", form: "reference=v1").status == .forbidden)
            #expect(try await server.manifestStatus("open/app", "v1") == .ok)
        }
        // Where the listener admits no anonymous pull, every page asks to sign in.
        try await withConsoleServer(anonymousPull: false) { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"open\",\"public\":true}")
            let response = try await server.client.execute(uri: "/namespaces/open", method: .get)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location]?.hasPrefix("/sign-in?next=") == true)
        }
    }
}
