import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraTestSupport
import NIOCore
import Testing

/// The usage page: SVG bar charts drawn on the server from the metered usage, for managers.
@Suite(.serialized)
struct UsagePageTests {
    @Test func usageIsChartedForManagersOnly() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.pushImage("team/app", tags: ["v1"])
            try await server.pushImage("team/big", tags: ["v1"], seed: 4)
            let (_, signedIn) = try await ConsoleSecurityTests.signIn(server, key: server.rootKey, secret: server.rootSecret)
            let session = try #require(signedIn)
            let response = try await server.client.execute(uri: "/namespaces/team/usage", method: .get, headers: [.cookie: session.cookie])
            #expect(response.status == .ok)
            let html = String(buffer: response.body)
            // Three charts of 14 days each; today's calls bar is the tallest (the pushes).
            #expect(html.components(separatedBy: "<svg viewBox=\"0 0 336 112\"").count - 1 == 3)
            #expect(html.components(separatedBy: "class=\"bar-fill\"><title>").count - 1 == 3 * 14)
            #expect(html.contains("y=\"0\" width=\"20\" height=\"100\" class=\"bar-fill\""))
            #expect(html.contains("<td>team/app</td>") && html.contains("<td>team/big</td>"))
            #expect(!html.contains("<script>"), "no inline script")
            // A viewer of the namespace may not read its usage.
            let (key, secret) = try await server.account("reader", role: "viewer", on: "team")
            let (_, viewer) = try await ConsoleSecurityTests.signIn(server, key: key, secret: secret)
            let refused = try await server.client.execute(uri: "/namespaces/team/usage", method: .get, headers: [.cookie: try #require(viewer).cookie])
            #expect(refused.status == .forbidden)
        }
    }
}
