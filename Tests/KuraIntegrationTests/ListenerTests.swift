import AsyncHTTPClient
import Foundation
import KuraCore
import KuraHTTP
@testable import KuraServe
import KuraMetadata
import KuraServerTestSupport
import Testing

/// Several listeners from one configuration: allow-lists enforced at accept time, APIs per
/// listener, anonymous pull per listener, and forwarded headers from trusted proxies only.
@Suite("Listeners")
struct ListenerTests {
    static func range(_ text: String) -> NetworkRange { try! NetworkRange(parsing: text) }

    @Test
    func privateListenerAdmitsOnlyItsAllowList() async throws {
        try await withTemporaryDirectory { data in
            var configuration = ServerConfiguration(dataDirectory: data, access: .init(enabled: false), gc: .init(enabled: false))
            configuration.listeners = [
                ListenerConfiguration(name: "public", host: "127.0.0.1", port: 0),
                ListenerConfiguration(name: "private", host: "127.0.0.2", port: 0, allow: [Self.range("127.0.0.1/32")]),
            ]
            try await withListeners(configuration) { ports, _, _ in
                let request = "GET /v2/ HTTP/1.1\r\nHost: registry\r\nConnection: close\r\n\r\n"
                let privatePort = try #require(ports["private"])
                let outsider = try await rawHTTPExchange(from: "127.0.0.3", to: "127.0.0.2", port: privatePort, request: request)
                #expect(outsider.isEmpty, "a client from 127.0.0.3 got an answer: \(outsider)")
                let insider = try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.2", port: privatePort, request: request)
                #expect(insider.hasPrefix("HTTP/1.1 200"), "\(insider)")
                // The refusal is the private listener's: the public one admits 127.0.0.3, and
                // the private one keeps accepting after refusing.
                let publicAnswer = try await rawHTTPExchange(from: "127.0.0.3", to: "127.0.0.1", port: try #require(ports["public"]), request: request)
                #expect(publicAnswer.hasPrefix("HTTP/1.1 200"), "\(publicAnswer)")
                let again = try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.2", port: privatePort, request: request)
                #expect(again.hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test
    func dualStackListenerMatchesIPv4ClientsInMappedForm() async throws {
        try await withTemporaryDirectory { data in
            var configuration = ServerConfiguration(dataDirectory: data, access: .init(enabled: false), gc: .init(enabled: false))
            // Bound to "::", IPv4 clients arrive as ::ffff:a.b.c.d; an IPv4 range still admits them.
            configuration.listeners = [ListenerConfiguration(name: "dual", host: "::", port: 0, allow: [Self.range("127.0.0.1/32")])]
            try await withListeners(configuration) { ports, _, _ in
                let port = try #require(ports["dual"])
                let request = "GET /healthz HTTP/1.1\r\nHost: kura\r\nConnection: close\r\n\r\n"
                let ipv4 = try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.1", port: port, request: request)
                #expect(ipv4.hasPrefix("HTTP/1.1 200"), "\(ipv4)")
                await #expect(throws: (any Error).self, "an IPv6 client outside the list is disconnected") {
                    _ = try await httpGet(HTTPClient.shared, "http://[::1]:\(port)/healthz", timeout: .seconds(5))
                }
            }
        }
    }

    @Test
    func listenersServeOnlyTheirAPIs() async throws {
        try await withTemporaryDirectory { data in
            var configuration = ServerConfiguration(dataDirectory: data, gc: .init(enabled: false))
            configuration.listeners = [
                ListenerConfiguration(name: "registry", host: "127.0.0.1", port: 0, apis: [.v2]),
                ListenerConfiguration(name: "admin", host: "127.0.0.1", port: 0, apis: [.admin]),
            ]
            try await withListeners(configuration) { ports, _, services in
                let root = try #require(services.rootCredentials)
                let auth = [("Authorization", basicAuthorization(root.accessKeyID, root.secretKey))]
                let registry = "http://127.0.0.1:\(try #require(ports["registry"]))"
                let admin = "http://127.0.0.1:\(try #require(ports["admin"]))"
                let client = HTTPClient.shared
                #expect(try await httpGet(client, "\(registry)/v2/", headers: auth).status == 200)
                #expect(try await httpGet(client, "\(registry)/api/v1/whoami", headers: auth).status == 404)
                #expect(try await httpGet(client, "\(admin)/api/v1/whoami", headers: auth).status == 200)
                #expect(try await httpGet(client, "\(admin)/v2/", headers: auth).status == 404)
                #expect(try await httpGet(client, "\(admin)/token", headers: auth).status == 404)
                for base in [registry, admin] {
                    #expect(try await httpGet(client, "\(base)/healthz").status == 200, "health is on every listener")
                }
            }
        }
    }

    @Test
    func anonymousPullIsPerListener() async throws {
        try await withTemporaryDirectory { data in
            var configuration = ServerConfiguration(dataDirectory: data, gc: .init(enabled: false))
            configuration.listeners = [
                ListenerConfiguration(name: "open", host: "127.0.0.1", port: 0, anonymousPull: true),
                ListenerConfiguration(name: "closed", host: "127.0.0.1", port: 0, anonymousPull: false),
            ]
            try await withListeners(configuration) { ports, _, services in
                let access = try #require(services.access)
                try await access.store.createNamespace(NamespaceRecord(name: "pub", isPublic: true))
                let open = "http://127.0.0.1:\(try #require(ports["open"]))"
                let closed = "http://127.0.0.1:\(try #require(ports["closed"]))"
                let client = HTTPClient.shared
                // A public namespace: anonymous reads reach the registry (no such repository
                // yet: 404) on one listener, and are sent to log in on the other.
                let allowed = try await httpGet(client, "\(open)/v2/pub/app/tags/list")
                #expect(allowed.status == 404 && allowed.body.contains("NAME_UNKNOWN"), "\(allowed.status) \(allowed.body)")
                let refused = try await httpGet(client, "\(closed)/v2/pub/app/tags/list")
                #expect(refused.status == 401)
                // An anonymous token from the open listener is no key to the closed one, and
                // the closed listener hands out anonymous tokens without scopes.
                let openToken = try tokenValue(try await httpGet(client, "\(open)/token?service=kura&scope=repository:pub/app:pull").body)
                let withToken = try await httpGet(client, "\(closed)/v2/pub/app/tags/list", headers: [("Authorization", "Bearer \(openToken)")])
                #expect(withToken.status == 401)
                let reopened = try await httpGet(client, "\(open)/v2/pub/app/tags/list", headers: [("Authorization", "Bearer \(openToken)")])
                #expect(reopened.status == 404)
                let closedToken = try tokenValue(try await httpGet(client, "\(closed)/token?service=kura&scope=repository:pub/app:pull").body)
                let scoped = try await httpGet(client, "\(open)/v2/pub/app/tags/list", headers: [("Authorization", "Bearer \(closedToken)")])
                #expect(scoped.status == 401, "a token from the closed listener carries no pull scope")
            }
        }
    }

    @Test
    func forwardedHeadersCountOnlyFromTrustedProxies() async throws {
        try await withTemporaryDirectory { data in
            var configuration = ServerConfiguration(
                dataDirectory: data, access: .init(autoCreateNamespaces: true, loginFailuresPerKey: 100, loginFailuresPerAddress: 2),
                gc: .init(enabled: false))
            configuration.listeners = [
                ListenerConfiguration(name: "proxied", host: "127.0.0.1", port: 0, trustedProxies: [Self.range("127.0.0.0/8")]),
                ListenerConfiguration(name: "direct", host: "127.0.0.1", port: 0),
            ]
            try await withListeners(configuration) { ports, _, services in
                let root = try #require(services.rootCredentials)
                let proxiedPort = try #require(ports["proxied"])
                let directPort = try #require(ports["direct"])
                let forwarded = [("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "registry.example.com"), ("X-Forwarded-For", "198.51.100.7")]
                let client = HTTPClient.shared

                // The token realm.
                let viaProxy = try await httpGet(client, "http://127.0.0.1:\(proxiedPort)/v2/", headers: forwarded)
                #expect(viaProxy.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer realm=\"https://registry.example.com/token\"") == true)
                let direct = try await httpGet(client, "http://127.0.0.1:\(directPort)/v2/", headers: forwarded)
                #expect(direct.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer realm=\"http://127.0.0.1:\(directPort)/token\"") == true)

                // Location of a new upload session.
                let auth = ("Authorization", basicAuthorization(root.accessKeyID, root.secretKey))
                let upload = try await httpGet(client, "http://127.0.0.1:\(proxiedPort)/v2/team/app/blobs/uploads/", headers: forwarded + [auth], method: .POST)
                #expect(upload.status == 202)
                #expect(upload.headers.first(name: "Location")?.hasPrefix("https://registry.example.com/v2/team/app/blobs/uploads/") == true)
                let plain = try await httpGet(client, "http://127.0.0.1:\(directPort)/v2/team/app/blobs/uploads/", headers: forwarded + [auth], method: .POST)
                #expect(plain.headers.first(name: "Location")?.hasPrefix("http://127.0.0.1:\(directPort)/v2/team/app/blobs/uploads/") == true)

                // The client address for login rate limits: X-Forwarded-For behind the proxy.
                func failedLogin(_ port: Int, from address: String, key: String) async throws -> Int {
                    try await httpGet(
                        client, "http://127.0.0.1:\(port)/v2/",
                        headers: [("X-Forwarded-For", address), ("Authorization", basicAuthorization(key, "wrong"))]
                    ).status
                }
                #expect(try await failedLogin(proxiedPort, from: "198.51.100.7", key: "KURAA") == 401)
                #expect(try await failedLogin(proxiedPort, from: "198.51.100.7", key: "KURAB") == 401)
                #expect(try await failedLogin(proxiedPort, from: "198.51.100.7", key: "KURAC") == 429, "third failure from one forwarded address")
                #expect(try await failedLogin(proxiedPort, from: "198.51.100.8", key: "KURAD") == 401, "another forwarded client is not limited")
                // Directly, the header is ignored: every attempt counts against 127.0.0.1.
                #expect(try await failedLogin(directPort, from: "203.0.113.1", key: "KURAE") == 401)
                #expect(try await failedLogin(directPort, from: "203.0.113.2", key: "KURAF") == 401)
                #expect(try await failedLogin(directPort, from: "203.0.113.3", key: "KURAG") == 429)
            }
        }
    }

    private func tokenValue(_ body: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return try #require(object?["token"] as? String)
    }
}
