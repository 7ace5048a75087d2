import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraTestSupport
import NIOCore
import Testing

/// The repository page's tag order across pages (by name or newest first, a cursor in the
/// next-page link), and the "last pushed" and "last pulled" of repositories.
@Suite(.serialized)
struct TagOrderPageTests {
    /// The tags of every page, following the next-page links from `path`.
    static func walk(_ server: ConsoleServer, _ path: String, cookie: String) async throws -> (tags: [String], pages: Int) {
        var tags: [String] = [], pages = 0
        var next: String? = path
        while let current = next {
            let (status, html) = try await ConsolePageTests.page(server, current, cookie: cookie)
            #expect(status == .ok, "\(current)")
            pages += 1
            tags += html.components(separatedBy: "<tr data-tag=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            next = html.range(of: "id=\"next-page\"").flatMap { _ in
                html.range(of: "<a href=\"", options: .backwards, range: html.startIndex..<html.range(of: "id=\"next-page\"")!.lowerBound)
            }.map { String(html[$0.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&") }
            if pages > 10 { break }
        }
        return (tags, pages)
    }

    @Test func tagsPageNewestFirstAcrossPagesWithACursor() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let digest = try await server.pushImage("team/app", tags: ["base"])
            let manifest = try await server.client.execute(
                uri: "/v2/team/app/manifests/\(digest)", method: .get, headers: [.authorization: server.rootAuthorization, .accept: MediaType.ociManifest])
            let json = String(buffer: manifest.body)
            // 70 more tags, pushed in an order unrelated to their names.
            for n in 0..<70 {
                try await server.pushManifest(json, mediaType: MediaType.ociManifest, to: "team/app", reference: "t\((n * 37) % 70)")
            }
            // Move one old tag: it becomes the newest.
            try await server.pushManifest(json, mediaType: MediaType.ociManifest, to: "team/app", reference: "base")
            let cookie = try await ConsolePageTests.rootCookie(server)

            let byName = try await Self.walk(server, "/repositories/team/app", cookie: cookie)
            #expect(byName.pages == 2)
            #expect(byName.tags == byName.tags.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }))
            #expect(byName.tags.count == 71)

            // Newest first, as the catalog orders all of them at once, with no tag twice or missed.
            let newest = try await Self.walk(server, "/repositories/team/app?sort=newest", cookie: cookie)
            #expect(newest.pages == 2)
            let expected = try await server.services.registry.catalog.retention.tagRecords(in: RepositoryName(parsing: "team/app")).map(\.tag.value)
            #expect(newest.tags == expected)
            #expect(newest.tags.first == "base")

            #expect(try await ConsolePageTests.page(server, "/repositories/team/app?sort=size", cookie: cookie).0 == .badRequest)
            #expect(try await ConsolePageTests.page(server, "/repositories/team/app?sort=newest&after=junk", cookie: cookie).0 == .badRequest)
        }
    }

    @Test func repositoriesShowWhenTheyWereLastPushedAndPulled() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.pushImage("team/app", tags: ["v1"])
            try await server.pushImage("team/db", tags: ["v1"], seed: 3)
            let cookie = try await ConsolePageTests.rootCookie(server)
            try await server.services.usage?.flush()
            let (_, before) = try await ConsolePageTests.page(server, "/repositories/team/app", cookie: cookie)
            #expect(before.contains("id=\"last-pulled\">not recorded<"))
            #expect(!before.contains("id=\"last-pushed\">never<"))

            let pulled = try await server.client.execute(
                uri: "/v2/team/app/manifests/v1", method: .get, headers: [.authorization: server.rootAuthorization, .accept: MediaType.ociManifest])
            #expect(pulled.status == .ok)
            try await server.services.usage?.flush()
            let hour = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600)
            let label = String(ISO8601DateFormatter().string(from: hour).replacingOccurrences(of: "T", with: " ").prefix(16))
            let (_, after) = try await ConsolePageTests.page(server, "/repositories/team/app", cookie: cookie)
            #expect(after.contains("id=\"last-pulled\">\(label)"), "the hour of the pull")
            let (_, namespace) = try await ConsolePageTests.page(server, "/namespaces/team", cookie: cookie)
            let appRow = try #require(namespace.components(separatedBy: "<tr data-name=\"team/app\"").dropFirst().first?.prefix { $0 != "\n" })
            let dbRow = try #require(namespace.components(separatedBy: "<tr data-name=\"team/db\"").dropFirst().first?.prefix { $0 != "\n" })
            #expect(appRow.contains(label + "–"))
            #expect(!dbRow.contains("–"), "team/db was never pulled")
            #expect(dbRow.contains(" UTC"), "but it was pushed")
        }
    }

    /// The text of a column of one tag's row.
    static func cell(_ html: String, tag: String, _ column: String) throws -> String {
        let row = try #require(html.components(separatedBy: "<tr data-tag=\"\(tag)\">").dropFirst().first?.components(separatedBy: "</tr>").first)
        let start = try #require(row.range(of: "<td class=\"\(column)\">"))
        return String(row[start.upperBound...].prefix { $0 != "<" })
    }

    /// "2026-11-30 14:05:09 UTC" as the pages show times.
    static func shownTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text.replacingOccurrences(of: " UTC", with: "Z").replacingOccurrences(of: " ", with: "T"))
    }

    @Test func tagsShowWhenEachWasLastPulledByTagOrByDigest() async throws {
        // No flush but the test's own: a pull must reach the catalog through the meter's flush only.
        try await withConsoleServer(configure: { $0.usage.flushIntervalSeconds = 3600 }) { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let shared = try await server.pushImage("team/app", tags: ["v1", "v1-alias"])
            try await server.pushImage("team/app", tags: ["v2", "v3"], seed: 7)
            let cookie = try await ConsolePageTests.rootCookie(server)
            let (_, before) = try await ConsolePageTests.page(server, "/repositories/team/app", cookie: cookie)
            #expect(before.contains("<th data-sort=\"text\">Last pulled</th>"))
            for tag in ["v1", "v1-alias", "v2", "v3"] { #expect(try Self.cell(before, tag: tag, "last-pulled") == "", "\(tag)") }

            let started = Date()
            func pull(_ reference: String) async throws {
                let response = try await server.client.execute(
                    uri: "/v2/team/app/manifests/\(reference)", method: .get,
                    headers: [.authorization: server.rootAuthorization, .accept: MediaType.ociManifest])
                #expect(response.status == .ok)
            }
            try await pull("v2")
            try await pull("v2")
            try await pull(shared.description)
            // Counted in memory: nothing is written to the catalog by the pulls themselves.
            let app = try RepositoryName(parsing: "team/app")
            let tags = try ["v1", "v1-alias", "v2", "v3"].map { try Tag(parsing: $0) }
            #expect(try await server.services.registry.catalog.usage.lastPulls(of: tags, in: app).isEmpty)
            try await server.services.usage?.flush()
            let finished = Date()

            let (_, after) = try await ConsolePageTests.page(server, "/repositories/team/app", cookie: cookie)
            for tag in ["v1", "v1-alias", "v2"] {
                let shown = try #require(Self.shownTime(try Self.cell(after, tag: tag, "last-pulled")), "\(tag)")
                // Shown to the second.
                #expect(shown >= started.addingTimeInterval(-1) && shown <= finished, "\(tag)")
            }
            #expect(try Self.cell(after, tag: "v3", "last-pulled") == "", "v3 shares v2's manifest but was never pulled, by tag or digest")
        }
    }
}
