import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraMetadata
import KuraTestSupport
import NIOCore
import Testing

/// The namespace settings and replication forms over HTTP: who may do what (the same rules
/// as the admin API), forged POSTs, bad input, and the webhook secret shown once.
@Suite(.serialized)
struct NamespaceSettingsPageTests {
    typealias Session = ConsoleSecurityTests.FormSession

    static func get(_ server: ConsoleServer, _ path: String, _ session: Session) async throws -> TestResponse {
        try await server.client.execute(uri: path, method: .get, headers: [.cookie: session.cookie])
    }

    static func post(_ server: ConsoleServer, _ path: String, _ session: Session, _ form: String) async throws -> TestResponse {
        try await ConsoleSecurityTests.post(server, path, cookie: session.cookie, form: "csrf=\(session.csrf)&\(form)")
    }

    static func signIn(_ server: ConsoleServer, _ key: String, _ secret: String) async throws -> Session {
        try #require(try await ConsoleSecurityTests.signIn(server, key: key, secret: secret).1)
    }

    /// Everything the forms could change, to see that a refused one changed nothing.
    static func state(_ server: ConsoleServer) async throws -> String {
        let catalog = server.services.registry.catalog
        return [
            "\(try await catalog.quotas.quota(namespace: "team") ?? -1)",
            "\(try await catalog.retention.retentionPolicies().map(\.scope))",
            "\(try await catalog.webhooks.webhooks(namespace: "team").map(\.url))",
            "\(try await catalog.access.grants(of: "ci").map { "\($0.namespace):\($0.role.rawValue)" })",
        ].joined(separator: " | ")
    }

    static let forms = [
        ("grant", "account=ci&role=manager"), ("revoke", "account=ci"), ("quota", "quota=1GiB"), ("quota-remove", ""),
        ("retention", "scope=team&keep_last=1"), ("retention-remove", "scope=team"), ("webhooks", "url=http%3A%2F%2F127.0.0.1%3A9%2Fx&event_push=on"),
        ("webhook-delete", "id=wh_x"),
    ]

    @Test func aViewerSeesNoSettingsAndItsForgedPostsChangeNothing() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.admin(.post, "accounts", "{\"name\":\"ci\"}")
            let (key, secret) = try await server.account("reader", role: "viewer", on: "team")
            let viewer = try await Self.signIn(server, key, secret)
            let before = try await Self.state(server)
            let namespace = String(buffer: try await Self.get(server, "/namespaces/team", viewer).body)
            #expect(!namespace.contains("settings-link"))
            #expect(try await Self.get(server, "/namespaces/team/settings", viewer).status == .forbidden)
            for (action, form) in Self.forms {
                let response = try await Self.post(server, "/namespaces/team/settings/\(action)", viewer, form)
                #expect(response.status == .forbidden, "\(action)")
            }
            #expect(try await Self.get(server, "/admin/replication", viewer).status == .forbidden)
            for (action, form) in [("rules", "name=r&direction=push&namespace=team&remote=http%3A%2F%2F127.0.0.1%3A9"), ("delete", "name=r"), ("run", "name=r")] {
                #expect(try await Self.post(server, "/admin/replication/\(action)", viewer, form).status == .forbidden, "\(action)")
            }
            #expect(try await Self.state(server) == before)
            #expect(await server.services.replicator?.allRules().isEmpty == true)
            // Root's forms work (so the refusals above were about the viewer).
            let root = try await Self.signIn(server, server.rootKey, server.rootSecret)
            #expect(try await Self.post(server, "/namespaces/team/settings/quota", root, "quota=1GiB").status == .seeOther)
            #expect(try await Self.state(server) != before)
        }
    }

    @Test func aPostWithoutTheSessionsTokenIsRefused() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.admin(.post, "accounts", "{\"name\":\"ci\"}")
            let root = try await Self.signIn(server, server.rootKey, server.rootSecret)
            let before = try await Self.state(server)
            for (action, form) in Self.forms {
                let response = try await ConsoleSecurityTests.post(server, "/namespaces/team/settings/\(action)", cookie: root.cookie, form: form)
                #expect(response.status == .forbidden, "\(action)")
            }
            let rule = try await ConsoleSecurityTests.post(
                server, "/admin/replication/rules", cookie: root.cookie, form: "name=r&direction=push&namespace=team&remote=http%3A%2F%2F127.0.0.1%3A9")
            #expect(rule.status == .forbidden)
            #expect(try await Self.state(server) == before)
        }
    }

    /// A manager (not an admin) edits retention and webhooks; grants and quotas stay with
    /// admins, as in the admin API, and the page offers no form for them.
    @Test func aManagerEditsRetentionAndWebhooksButNotGrantsOrQuota() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.admin(.post, "namespaces", "{\"name\":\"other\"}")
            try await server.admin(.post, "accounts", "{\"name\":\"ci\"}")
            try await server.admin(.put, "accounts/ci/grants/team", "{\"role\":\"viewer\"}")
            let (key, secret) = try await server.account("lead", role: "manager", on: "team")
            let manager = try await Self.signIn(server, key, secret)
            let page = String(buffer: try await Self.get(server, "/namespaces/team/settings", manager).body)
            #expect(page.contains("<td>ci</td><td>viewer"))
            #expect(page.contains("<td>lead</td><td>manager"))
            #expect(!page.contains("id=\"grant-form\"") && !page.contains("id=\"quota-form\""))
            #expect(page.contains("id=\"retention-form\"") && page.contains("id=\"webhook-form\""))
            #expect(try await Self.post(server, "/namespaces/team/settings/grant", manager, "account=ci&role=manager").status == .forbidden)
            #expect(try await Self.post(server, "/namespaces/team/settings/quota", manager, "quota=1GiB").status == .forbidden)
            #expect(try await server.services.registry.catalog.quotas.quota(namespace: "team") == nil)

            // Retention on the namespace and on one repository; none on another namespace.
            #expect(try await Self.post(server, "/namespaces/team/settings/retention", manager, "scope=team&keep_last=5&keep_pattern=%5Ev%5Cd%2B%24").status == .seeOther)
            #expect(try await Self.post(server, "/namespaces/team/settings/retention", manager, "scope=team%2Fapp&older_than_days=7").status == .seeOther)
            #expect(try await Self.post(server, "/namespaces/team/settings/retention", manager, "scope=other&keep_last=1").status == .forbidden)
            let policies = try await server.services.registry.catalog.retention.retentionPolicies().sorted { $0.scope < $1.scope }
            #expect(policies == [
                RetentionPolicy(scope: "team", keepLast: 5, keepPattern: "^v\\d+$"),
                RetentionPolicy(scope: "team/app", deleteOlderThan: 7 * 86_400),
            ])
            #expect(try await Self.post(server, "/namespaces/team/settings/retention-remove", manager, "scope=team%2Fapp").status == .seeOther)
            #expect(try await server.services.registry.catalog.retention.retentionPolicies().map(\.scope) == ["team"])

            // A webhook with a secret chosen here: created, and the secret not echoed back.
            let created = try await Self.post(
                server, "/namespaces/team/settings/webhooks", manager, "url=https%3A%2F%2Fhooks.example%2Fkura&secret=chosen-secret-1&event_pull=on")
            #expect(created.status == .created)
            #expect(!String(buffer: created.body).contains("chosen-secret-1"))
            let hooks = try await server.services.registry.catalog.webhooks.webhooks(namespace: "team")
            #expect(hooks.map(\.url) == ["https://hooks.example/kura"])
            #expect(hooks.first?.events == [.pull])
            #expect(try await Self.post(server, "/namespaces/team/settings/webhook-delete", manager, "id=\(hooks.first?.id ?? "")").status == .seeOther)
            #expect(try await server.services.registry.catalog.webhooks.webhooks(namespace: "team").isEmpty)
            // Replication is for admins only.
            #expect(try await Self.get(server, "/admin/replication", manager).status == .forbidden)
        }
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.admin(.post, "accounts", "{\"name\":\"ci\"}")
            let root = try await Self.signIn(server, server.rootKey, server.rootSecret)
            let before = try await Self.state(server)
            for (action, form, message) in [
                ("quota", "quota=lots", "a size is a number"),
                ("quota", "quota=-5", "a size is a number"),
                ("retention", "scope=team", "give keep last"),
                ("retention", "scope=team&keep_last=2&keep_pattern=%28unclosed", "not a valid regular expression"),
                ("retention", "scope=team&older_than_days=0", "1 to 36500 days"),
                ("retention", "scope=Team%2F..&keep_last=1", "invalid scope"),
                ("webhooks", "url=javascript%3Aalert(1)&event_push=on", "http or https"),
                ("webhooks", "url=http%3A%2F%2F127.0.0.1%3A9%2Fx", "at least one"),
                ("grant", "account=nobody&role=viewer", "does not exist"),
                ("grant", "account=ci&role=owner", "manager or viewer"),
            ] {
                let response = try await Self.post(server, "/namespaces/team/settings/\(action)", root, form)
                #expect((400..<500).contains(response.status.code), "\(action) \(form)")
                #expect(String(buffer: response.body).contains(message), "\(action) \(form): \(String(buffer: response.body))")
            }
            let rule = try await Self.post(server, "/admin/replication/rules", root, "name=bad%20name&direction=push&namespace=team&remote=http%3A%2F%2F127.0.0.1%3A9")
            #expect(rule.status == .badRequest)
            #expect(String(buffer: rule.body).contains("rule name"))
            #expect(try await Self.state(server) == before)
            #expect(await server.services.replicator?.allRules().isEmpty == true)
        }
    }
}
