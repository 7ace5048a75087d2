import Foundation
import KuraMetadata
import Testing

/// Replication rules, run against every catalog in ``CatalogFixture/all``; a rule stored
/// through one handle is seen through another (another node).
@Suite("ReplicationStore conformance")
struct ReplicationStoreConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func rulesArePutReplacedListedAndDeleted(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.replication
            let document = Array("{\"rule\":{\"name\":\"b\"},\"sealedRemotePassword\":\"AAEC\"}".utf8) + [0xff, 0x00]
            try await store.putReplicationRule(ReplicationRuleRecord(name: "b", document: document))
            try await store.putReplicationRule(ReplicationRuleRecord(name: "a", document: [1]))
            try await store.putReplicationRule(ReplicationRuleRecord(name: "a", document: [2]))
            #expect(try await store.replicationRules() == [
                ReplicationRuleRecord(name: "a", document: [2]), ReplicationRuleRecord(name: "b", document: document),
            ])
            #expect(try await store.deleteReplicationRule(named: "a"))
            #expect(try await store.deleteReplicationRule(named: "a") == false)
            #expect(try await store.replicationRules().map(\.name) == ["b"])
        }
    }

    @Test(arguments: CatalogFixture.shared)
    func anotherNodeSeesTheRules(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            try await made.catalog.replication.putReplicationRule(ReplicationRuleRecord(name: "to-dr", document: [7, 8]))
            #expect(try await reopen().replication.replicationRules() == [ReplicationRuleRecord(name: "to-dr", document: [7, 8])])
        }
    }
}
