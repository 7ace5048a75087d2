import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraMetadata
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
            // Four charts of 14 days each; today's calls bar is the tallest (the pushes).
            #expect(html.components(separatedBy: "<svg viewBox=\"0 0 336 112\"").count - 1 == 4)
            #expect(html.components(separatedBy: "class=\"bar-fill\"><title>").count - 1 == 4 * 14)
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

    /// The bars of the chart titled `title`: "MM-dd: value" each.
    static func bars(_ html: String, chart title: String) throws -> [String] {
        let figure = try #require(html.components(separatedBy: "<figcaption>\(title) ").dropFirst().first?.components(separatedBy: "</figure>").first)
        return figure.components(separatedBy: "<title>").dropFirst().map { String($0.prefix { $0 != "<" }) }
    }

    @Test func storedBytesAreChartedPerDayFromTheDailySamples() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.pushImage("team/app", tags: ["v1"])
            let usage = try #require(server.services.usage)
            let catalog = server.services.registry.catalog
            let today = StorageSample.dayStart(of: Date())
            // The meter's sample is the namespace's stored bytes now, under today.
            try await usage.sampleStorage()
            let now = try #require(try await catalog.usage.storage(namespace: "team").first)
            #expect(
                try await catalog.usage.storageSamples(namespace: "team", from: today, to: today.addingTimeInterval(86_400)).map(\.physicalBytes)
                    == [now.physicalBytes])
            // Two earlier days, as samples taken then would have left them.
            try await catalog.usage.recordStorageSamples([
                StorageSample(day: today.addingTimeInterval(-2 * 86_400), namespace: "team", physicalBytes: 3 << 20, logicalBytes: 3 << 20),
                StorageSample(day: today.addingTimeInterval(-86_400), namespace: "team", physicalBytes: 1 << 20, logicalBytes: 2 << 20),
            ])
            let (_, signedIn) = try await ConsoleSecurityTests.signIn(server, key: server.rootKey, secret: server.rootSecret)
            let response = try await server.client.execute(
                uri: "/namespaces/team/usage", method: .get, headers: [.cookie: try #require(signedIn).cookie])
            #expect(response.status == .ok)
            let bars = try Self.bars(String(buffer: response.body), chart: "Stored bytes")
            #expect(bars.count == 14)
            func label(_ day: Date) -> String { String(ISO8601DateFormatter().string(from: day).dropFirst(5).prefix(5)) }
            #expect(
                bars.suffix(3).prefix(2) == [
                    "\(label(today.addingTimeInterval(-2 * 86_400))): 3.0 MiB", "\(label(today.addingTimeInterval(-86_400))): 1.0 MiB",
                ])
            // Today's bar is the figure now (an image of a few KiB), not a sample.
            #expect(bars.last?.hasPrefix("\(label(today)): ") == true && bars.last?.hasSuffix(" KiB") == true, "\(bars.last ?? "")")
            #expect(bars.prefix(11).allSatisfy { $0.hasSuffix(": 0 B") }, "no samples before")
        }
    }
}
