import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraTestSupport
import NIOCore
import Testing

/// The namespace settings (members, quota, retention, webhooks) and replication pages in
/// headless Chromium, as root: one flow through each form.
@Suite(.serialized)
struct SettingsBrowserTests {
    @Test func rootEditsMembersQuotaRetentionWebhooksAndReplication() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.admin(.post, "accounts", "{\"name\":\"ci\"}")
            try await server.pushImage("team/app", tags: ["v1"])
            try await Browser.with { browser in
                try await ConsoleBrowserTests.signIn(browser, server, key: server.rootKey, secret: server.rootSecret)
                try await browser.go(server.baseURL + "/namespaces/team")
                try await browser.follow("#settings-link")
                #expect(try await browser.currentURL.hasSuffix("/namespaces/team/settings"))

                // Members: grant ci the manager role.
                try await browser.type("#grant-account", "ci")
                try await browser.select("#grant-role", "manager")
                try await browser.follow("#grant")
                let members = try await browser.text("#members tbody")
                #expect(members.contains("ci") && members.contains("manager"), "\(members)")
                let grants = try await server.services.registry.catalog.access.grants(of: "ci")
                #expect(grants.map { "\($0.namespace) \($0.role.rawValue)" } == ["team manager"])

                // Quota: 10 MiB, shown with what is stored.
                try await browser.type("#quota-size", "10 MiB")
                try await browser.follow("#set-quota")
                #expect(try await browser.text("#quota").contains("of a quota of 10 MiB"))
                #expect(try await server.admin(.get, "namespaces/team/quota")["maxBytes"] as? Int == 10 << 20)

                // Retention: keep the last 3, delete others after 30 days.
                try await browser.type("#retention-keep-last", "3")
                try await browser.type("#retention-days", "30")
                try await browser.follow("#set-retention")
                #expect(try await browser.text("#retention tbody").contains("30 days"))
                let policies = try await server.services.registry.catalog.retention.retentionPolicies()
                #expect(policies.map(\.scope) == ["team"])
                #expect(policies.first?.keepLast == 3)
                #expect(policies.first?.deleteOlderThan == TimeInterval(30 * 86_400))

                // Webhooks: the secret made here is shown once, then never again.
                try await browser.type("#webhook-url", "http://127.0.0.1:9/hook")
                try await browser.follow("#create-webhook")
                let secret = try await browser.text("#new-webhook-secret")
                #expect(secret.count >= 40)
                try await browser.screenshot("11-namespace-settings")
                try await browser.go(server.baseURL + "/namespaces/team/settings")
                #expect(try await browser.text("#webhooks tbody").contains("http://127.0.0.1:9/hook"))
                #expect(try await browser.pageSource.contains(secret) == false)
                try await browser.followConfirming("#webhooks tbody button.danger")
                #expect(try await browser.findAll("#webhooks tbody tr").isEmpty)

                // Replication: a push rule to an address nobody answers; a run is recorded, failed.
                try await browser.go(server.baseURL + "/admin/replication")
                try await browser.type("#rule-name", "offsite")
                try await browser.type("#rule-namespace", "team")
                try await browser.type("#rule-remote", "http://127.0.0.1:9")
                try await browser.follow("#save-rule")
                #expect(try await browser.findAll("#rules tr[data-rule='offsite']").count == 1)
                try await browser.follow("#rules tr[data-rule='offsite'] button[type=submit]")
                _ = try await Poll.until("a recorded replication run", timeout: .seconds(60)) { () async -> Bool? in
                    try? await browser.go(server.baseURL + "/admin/replication")
                    return (try? await browser.findAll("#runs tbody tr").isEmpty) == false ? true : nil
                }
                let run = try await browser.text("#runs tbody")
                #expect(run.contains("offsite") && run.contains("manual") && run.contains("fail"), "\(run)")
                try await browser.screenshot("12-replication")
                try await browser.followConfirming("#rules tr[data-rule='offsite'] button.danger")
                #expect(try await browser.findAll("#rules tbody tr").isEmpty)
            }
        }
    }
}
