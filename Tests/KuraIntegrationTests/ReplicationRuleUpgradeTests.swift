import Foundation
import KuraMetadata
@testable import KuraServe
import KuraServerTestSupport
import NIOCore
import Testing

/// Replication rules moved from the data folder (`replication-rules.json`, where Kura kept
/// them before the catalog did) into the catalog at start, passwords still sealed.
@Suite("replication rules: upgrade from the data folder")
struct ReplicationRuleUpgradeTests {
    @Test func rulesOfAnOlderDataFolderMoveIntoTheCatalog() async throws {
        try await withTemporaryDirectory { data in
            let access = ServerConfiguration.AccessSettings(enabled: true)
            // A rule made through the admin API, then written back the old way: the file
            // holds it, the catalog does not.
            let root = try await withLiveServer(dataDirectory: data, access: access) { client, services in
                let credentials = try #require(services.rootCredentials)
                let root = TestKey(id: credentials.accessKeyID, secret: credentials.secretKey)
                let rule = #"{"direction":"pull","namespace":"team","remote":"http://127.0.0.1:9","remoteNamespace":"up","remoteUsername":"u","remotePassword":"old-secret","intervalSeconds":3600}"#
                let created = try await client.admin(.put, "replication/rules/legacy", as: root, json: rule)
                #expect(created.status == .ok, "\(String(buffer: created.body))")
                let catalog = services.registry.catalog.replication
                let records = try await catalog.replicationRules()
                let documents = records.map { String(decoding: $0.document, as: UTF8.self) }
                try Data("[\(documents.joined(separator: ","))]".utf8).write(to: URL(fileURLWithPath: "\(data)/replication-rules.json"))
                #expect(try await catalog.deleteReplicationRule(named: "legacy"))
                return root
            }
            // The next start imports it.
            try await withLiveServer(dataDirectory: data, access: access) { client, _ in
                let listed = try await client.admin(.get, "replication/rules", as: root)
                let text = String(buffer: listed.body)
                #expect(text.contains("legacy"))
                #expect(text.contains("old-secret") == false)
            }
            #expect(FileManager.default.fileExists(atPath: "\(data)/replication-rules.json") == false)
            #expect(FileManager.default.fileExists(atPath: "\(data)/replication-rules.json.imported"))
            let stored = try await SQLiteMetadataStore(path: "\(data)/catalog.sqlite").replicationRules()
            #expect(stored.map(\.name) == ["legacy"])
            let document = String(decoding: stored.first?.document ?? [], as: UTF8.self)
            #expect(document.contains("sealedRemotePassword"))
            #expect(document.contains("old-secret") == false, "still sealed")
        }
    }
}
