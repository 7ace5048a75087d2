import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraServe
import KuraTestSupport
import NIOCore
import Testing

/// Console sessions live in the catalog: two nodes on one PostgreSQL catalog (a cluster
/// behind a balancer) share them, and a restart signs nobody out.
@Suite(.serialized)
struct SharedSessionTests {
    @Test func aSignInOnOneNodeHoldsOnAnotherSharingThePostgreSQLCatalog() async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        do {
            try await Self.twoNodes(url: url)
            await PostgreSQLServer.dropDatabase(database)
        } catch {
            await PostgreSQLServer.dropDatabase(database)
            throw error
        }
    }

    private static func twoNodes(url: String) async throws {
        let onPostgres: @Sendable (inout ServerConfiguration) -> Void = { $0.catalog = .init(backend: .postgres(url: url, poolSize: 4)) }
        try await withConsoleServer(configure: onPostgres) { first in
            try await first.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await withConsoleServer(configure: onPostgres, root: (first.rootKey, first.rootSecret)) { second in
                let session = try #require(try await ConsoleSecurityTests.signIn(first, key: first.rootKey, secret: first.rootSecret).1)
                // The other node knows the session: the page is root's, and a form with the token works.
                let page = try await second.client.execute(uri: "/namespaces/team/settings", method: .get, headers: [.cookie: session.cookie])
                #expect(page.status == .ok)
                #expect(String(buffer: page.body).contains("<span id=\"account\">root</span>"))
                let quota = try await ConsoleSecurityTests.post(second, "/namespaces/team/settings/quota", cookie: session.cookie, form: "csrf=\(session.csrf)&quota=1GiB")
                #expect(quota.status == .seeOther)
                #expect(try await first.services.registry.catalog.quotas.quota(namespace: "team") == 1 << 30)
                // Signing out on one node ends the session on both.
                #expect(try await ConsoleSecurityTests.post(second, "/sign-out", cookie: session.cookie, form: "csrf=\(session.csrf)").status == .seeOther)
                let after = try await first.client.execute(uri: "/namespaces/team/settings", method: .get, headers: [.cookie: session.cookie])
                #expect(after.status == .seeOther)
                #expect(after.headers[.location]?.hasPrefix("/sign-in") == true)
                #expect(try await first.sessions.count() == 0)
            }
        }
    }

    @Test func aRestartSignsNobodyOut() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kura-console-restart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let (root, session) = try await withConsoleServer(dataDirectory: directory) { server in
                try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
                let session = try #require(try await ConsoleSecurityTests.signIn(server, key: server.rootKey, secret: server.rootSecret).1)
                return ((server.rootKey, server.rootSecret), session)
            }
            try await withConsoleServer(dataDirectory: directory, root: root) { server in
                let page = try await server.client.execute(uri: "/namespaces/team/settings", method: .get, headers: [.cookie: session.cookie])
                #expect(page.status == .ok)
                #expect(String(buffer: page.body).contains("<span id=\"account\">root</span>"))
                // The catalog holds a hash of the id, not the id the cookie carries.
                let id = String(session.cookie.dropFirst("kura_session=".count))
                #expect(try await server.services.registry.catalog.consoleSessions.consoleSession(idHash: id) == nil)
            }
        }
    }
}
