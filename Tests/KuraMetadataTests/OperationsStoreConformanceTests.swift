import Foundation
import KuraCore
import KuraMetadata
import KuraTestSupport
import Testing

/// Retention policies and webhooks, run against every catalog in ``CatalogFixture/all``.
@Suite("Retention and webhook stores conformance")
struct OperationsStoreConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func retentionPoliciesAndTagRecords(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.retention
            let namespacePolicy = RetentionPolicy(scope: "team", keepLast: 3)
            let repositoryPolicy = RetentionPolicy(scope: "team/app", keepPattern: "^v[0-9]+$", deleteOlderThan: 86_400)
            try await store.setRetentionPolicy(repositoryPolicy)
            try await store.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 1))
            try await store.setRetentionPolicy(namespacePolicy)
            #expect(try await store.retentionPolicies() == [namespacePolicy, repositoryPolicy])
            #expect(try await store.removeRetentionPolicy(scope: "team"))
            #expect(try await store.removeRetentionPolicy(scope: "team") == false)
            #expect(try await store.retentionPolicies() == [repositoryPolicy])

            let app = try repo("team/app")
            try await catalog.metadata.putManifest(manifestRecord(1), references: [], in: app, tag: tag("old"))
            await Poll.nextMillisecond()
            try await catalog.metadata.putManifest(manifestRecord(2), references: [], in: app, tag: tag("new"))
            let records = try await store.tagRecords(in: app)
            #expect(records.map(\.tag) == (try tags("new", "old")), "newest first")
            #expect(records.map(\.digest) == [digest(2), digest(1)])
            #expect(records[0].updatedAt > records[1].updatedAt)
            #expect(try await store.tagRecords(in: repo("team/none")).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func webhooksPerNamespace(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.webhooks
            let first = WebhookRecord(
                id: "w1", namespace: "team", url: "https://example.test/hook", sealedSecret: Array(repeating: 0xa5, count: 60),
                events: [.push, .delete], createdAt: date(milliseconds: 1_000))
            let second = WebhookRecord(
                id: "w2", namespace: "other", url: "http://10.0.0.1/x", sealedSecret: [0], events: [.job], createdAt: date(milliseconds: 2_000))
            try await store.createWebhook(second)
            try await store.createWebhook(first)
            await #expect(throws: (any Error).self) { try await store.createWebhook(first) }
            #expect(try await store.webhooks(namespace: nil) == [first, second], "oldest first")
            #expect(try await store.webhooks(namespace: "team") == [first])
            #expect(try await store.deleteWebhook(id: "w1", namespace: "other") == false, "another namespace's webhook stays")
            #expect(try await store.deleteWebhook(id: "w1", namespace: "team"))
            #expect(try await store.webhooks(namespace: "team").isEmpty)
        }
    }

}
