import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraTestSupport
import NIOCore
import Testing

/// The administration pages through their forms: accounts, keys (the secret shown once),
/// grants, the audit log; refused to everyone but root and account admins.
@Suite(.serialized)
struct AdministrationPageTests {
    @Test func rootManagesAnAccountItsKeysAndGrantsThroughTheForms() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let (_, signedIn) = try await ConsoleSecurityTests.signIn(server, key: server.rootKey, secret: server.rootSecret)
            let session = try #require(signedIn)
            let post = { (path: String, form: String) in
                try await ConsoleSecurityTests.post(server, path, cookie: session.cookie, form: "csrf=\(session.csrf)&\(form)")
            }
            #expect(try await post("/admin/accounts", "name=ci").status == .seeOther)
            #expect(try await post("/admin/accounts/ci/grants", "namespace=team&role=manager").status == .seeOther)

            // A new key: its secret is on this answer only, and it works for docker login.
            let created = try await post("/admin/accounts/ci/keys", "")
            #expect(created.status == .created)
            let html = String(buffer: created.body)
            let keyID = try #require(html.range(of: "id=\"new-key-id\">").map { String(html[$0.upperBound...].prefix { $0 != "<" }) })
            let secret = try #require(html.range(of: "id=\"new-secret\">").map { String(html[$0.upperBound...].prefix { $0 != "<" }) })
            let login = try await server.client.execute(uri: "/v2/", method: .get, headers: [.authorization: server.basic(keyID, secret)])
            #expect(login.status == .ok)
            let again = String(buffer: try await server.client.execute(uri: "/admin/accounts/ci", method: .get, headers: [.cookie: session.cookie]).body)
            #expect(again.contains(keyID))
            #expect(!again.contains(secret))
            #expect(again.contains("<td>team</td><td>manager</td>"))

            // Rotate: a new key and secret; the old key stops working.
            let rotated = try await post("/admin/keys/\(keyID)/rotate", "account=ci")
            #expect(rotated.status == .created)
            let rotatedHTML = String(buffer: rotated.body)
            let newID = try #require(rotatedHTML.range(of: "id=\"new-key-id\">").map { String(rotatedHTML[$0.upperBound...].prefix { $0 != "<" }) })
            #expect(newID != keyID)
            #expect(try await server.client.execute(uri: "/v2/", method: .get, headers: [.authorization: server.basic(keyID, secret)]).status == .unauthorized)

            // Disable the account; the audit page lists what happened, filtered.
            #expect(try await post("/admin/accounts/ci/disable", "").status == .seeOther)
            let audit = String(buffer: try await server.client.execute(uri: "/admin/audit?action=key.create", method: .get, headers: [.cookie: session.cookie]).body)
            #expect(audit.components(separatedBy: "<td>key.create</td>").count - 1 == 2)
            #expect(!audit.contains("<td>account.disable</td>"))
            let jobs = try await server.client.execute(uri: "/admin/jobs", method: .get, headers: [.cookie: session.cookie])
            #expect(jobs.status == .ok)
        }
    }

    @Test func administrationIsRefusedToMembers() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let (key, secret) = try await server.account("dev", role: "manager", on: "team")
            let (_, signedIn) = try await ConsoleSecurityTests.signIn(server, key: key, secret: secret)
            let session = try #require(signedIn)
            for path in ["/admin/accounts", "/admin/audit", "/admin/jobs", "/admin/accounts/root"] {
                let response = try await server.client.execute(uri: path, method: .get, headers: [.cookie: session.cookie])
                #expect(response.status == .forbidden, "\(path)")
            }
            let forged = try await ConsoleSecurityTests.post(server, "/admin/accounts", cookie: session.cookie, form: "csrf=\(session.csrf)&name=intruder&admin=on")
            #expect(forged.status == .forbidden)
            let accounts = try await server.client.execute(uri: "/api/v1/accounts", method: .get, headers: [.authorization: server.rootAuthorization])
            #expect(!String(buffer: accounts.body).contains("intruder"))
            // The page has no administration links for a member.
            let home = String(buffer: try await server.client.execute(uri: "/", method: .get, headers: [.cookie: session.cookie]).body)
            #expect(!home.contains("/admin/accounts"))
        }
    }
}
