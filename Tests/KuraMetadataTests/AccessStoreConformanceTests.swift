import Foundation
import KuraCore
import KuraMetadata
import Testing

/// Accounts, keys, grants, namespaces, descriptions and the audit log, run against every
/// catalog in ``CatalogFixture/all``.
@Suite("AccessStore conformance")
struct AccessStoreConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func accountsAreUniqueAndDeletingOneTakesItsKeysAndGrants(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.access
            let created = date(milliseconds: 1_700_000_000_001)
            try await store.createAccount(Account(name: "ci", isAdmin: true, createdAt: created))
            try await store.createAccount(Account(name: "alice"))
            await #expect(throws: AccessStoreError.duplicate("account ci")) { try await store.createAccount(Account(name: "ci")) }
            #expect(try await store.account(named: "ci") == Account(name: "ci", isAdmin: true, createdAt: created))
            #expect(try await store.accounts().map(\.name) == ["alice", "ci"])

            #expect(try await store.setAccountDisabled("ci", true))
            #expect(try await store.account(named: "ci")?.disabled == true)
            #expect(try await store.setAccountDisabled("nobody", true) == false)

            try await store.createKey(AccessKeyRecord(id: "KCI1", account: "ci", secretHash: [1, 2, 3]))
            try await store.setGrant(Grant(account: "ci", namespace: "team", role: .manager))
            #expect(try await store.deleteAccount("ci"))
            #expect(try await store.key(id: "KCI1") == nil, "keys go with the account")
            #expect(try await store.grants(of: "ci").isEmpty, "grants go with the account")
            #expect(try await store.deleteAccount("ci") == false)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func keysRoundTripAndAnAccountHoldsAtMostTwoActive(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.access
            await #expect(throws: AccessStoreError.notFound("account ghost")) {
                try await store.createKey(AccessKeyRecord(id: "K0", account: "ghost", secretHash: [0]))
            }
            try await store.createAccount(Account(name: "ci"))
            let first = AccessKeyRecord(
                id: "K1", account: "ci", secretHash: Array(repeating: 0xfe, count: 32), createdAt: date(milliseconds: 1_000),
                lastUsedAt: nil)
            try await store.createKey(first)
            try await store.createKey(AccessKeyRecord(id: "K2", account: "ci", secretHash: [2], createdAt: date(milliseconds: 2_000)))
            #expect(try await store.key(id: "K1") == first)
            await #expect(throws: AccessStoreError.tooManyActiveKeys(account: "ci", limit: 2)) {
                try await store.createKey(AccessKeyRecord(id: "K3", account: "ci", secretHash: [3]))
            }
            // A disabled third key is allowed, and may not be enabled while two are active.
            try await store.createKey(
                AccessKeyRecord(id: "K3", account: "ci", secretHash: [3], status: .disabled, createdAt: date(milliseconds: 3_000)))
            await #expect(throws: AccessStoreError.tooManyActiveKeys(account: "ci", limit: 2)) {
                try await store.setKeyStatus("K3", .active)
            }
            await #expect(throws: AccessStoreError.duplicate("access key K3")) {
                try await store.createKey(AccessKeyRecord(id: "K3", account: "ci", secretHash: [3], status: .disabled))
            }
            #expect(try await store.setKeyStatus("K1", .disabled))
            #expect(try await store.setKeyStatus("K3", .active))
            #expect(try await store.setKeyStatus("nope", .active) == false)
            #expect(try await store.keys(of: "ci").map(\.id) == ["K1", "K2", "K3"])
            #expect(try await store.keys(of: "ci").map(\.status) == [.disabled, .active, .active])

            try await store.touchKey("K2", at: date(milliseconds: 9_999))
            #expect(try await store.key(id: "K2")?.lastUsedAt == date(milliseconds: 9_999))
            #expect(try await store.deleteKey("K2"))
            #expect(try await store.deleteKey("K2") == false)
        }
    }

    @Test(arguments: CatalogFixture.shared)
    func concurrentKeyCreationFromTwoNodesNeverPassesTheLimit(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            let stores = [made.catalog.access, try await reopen().access]
            try await stores[0].createAccount(Account(name: "ci"))
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for n in 0..<8 {
                    group.addTask {
                        do {
                            try await stores[n % 2].createKey(AccessKeyRecord(id: "K\(n)", account: "ci", secretHash: [UInt8(n)]))
                            return true
                        } catch AccessStoreError.tooManyActiveKeys {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(created == 2)
            #expect(try await stores[1].keys(of: "ci").filter { $0.status == .active }.count == 2)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func grantsNamespacesAndDescriptions(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.access
            await #expect(throws: AccessStoreError.notFound("account ghost")) {
                try await store.setGrant(Grant(account: "ghost", namespace: "team", role: .viewer))
            }
            try await store.createAccount(Account(name: "ci"))
            try await store.setGrant(Grant(account: "ci", namespace: "team", role: .viewer))
            try await store.setGrant(Grant(account: "ci", namespace: "team", role: .manager))
            try await store.setGrant(Grant(account: "ci", namespace: Grant.allNamespaces, role: .viewer))
            #expect(try await store.grants(of: "ci") == [
                Grant(account: "ci", namespace: "*", role: .viewer), Grant(account: "ci", namespace: "team", role: .manager),
            ])
            #expect(try await store.removeGrant(account: "ci", namespace: "*"))
            #expect(try await store.removeGrant(account: "ci", namespace: "*") == false)

            let made = date(milliseconds: 1_234)
            try await store.createNamespace(NamespaceRecord(name: "team", createdAt: made))
            try await store.createNamespace(NamespaceRecord(name: "public", isPublic: true, createdAt: made))
            await #expect(throws: AccessStoreError.duplicate("namespace team")) { try await store.createNamespace(NamespaceRecord(name: "team")) }
            #expect(try await store.namespaces().map(\.name) == ["public", "team"])
            #expect(try await store.namespace(named: "team") == NamespaceRecord(name: "team", createdAt: made))
            #expect(try await store.setNamespacePublic("team", true))
            #expect(try await store.namespace(named: "team")?.isPublic == true)
            #expect(try await store.deleteNamespace("team"))
            #expect(try await store.grants(of: "ci").isEmpty, "the namespace's grants go with it")
            #expect(try await store.deleteNamespace("team") == false)

            #expect(try await store.description(of: "team/app") == nil)
            let first = try await store.updateDescription(of: "team/app", short: "An app", full: nil, at: date(milliseconds: 10))
            #expect(first == RepositoryDescription(repository: "team/app", short: "An app", full: "", updatedAt: date(milliseconds: 10)))
            let second = try await store.updateDescription(of: "team/app", short: nil, full: "# App\né ✓", at: date(milliseconds: 20))
            #expect(second == RepositoryDescription(repository: "team/app", short: "An app", full: "# App\né ✓", updatedAt: date(milliseconds: 20)))
            #expect(try await store.description(of: "team/app") == second)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func auditEventsFilterAndComeNewestFirst(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.access
            for n in 0..<6 {
                try await store.appendAudit(
                    AuditEvent(
                        time: date(milliseconds: 1_000 + Int64(n)), account: n % 2 == 0 ? "ci" : "alice", accessKeyID: "K\(n)",
                        sourceAddress: "10.0.0.\(n)", action: n < 3 ? "manifest.push" : "tag.delete", namespace: n < 4 ? "team" : "other",
                        repository: "team/app", detail: n == 5 ? "last" : nil))
            }
            let all = try await store.auditEvents(AuditQuery())
            #expect(all.map(\.accessKeyID) == ["K5", "K4", "K3", "K2", "K1", "K0"])
            #expect(all.first?.detail == "last" && all.first?.id != nil)
            #expect(try await store.auditEvents(AuditQuery(account: "ci")).map(\.accessKeyID) == ["K4", "K2", "K0"])
            #expect(try await store.auditEvents(AuditQuery(namespace: "other")).map(\.accessKeyID) == ["K5", "K4"])
            #expect(try await store.auditEvents(AuditQuery(action: "manifest.push", limit: 2)).map(\.accessKeyID) == ["K2", "K1"])
            let window = AuditQuery(since: date(milliseconds: 1_002), until: date(milliseconds: 1_004))
            #expect(try await store.auditEvents(window).map(\.accessKeyID) == ["K3", "K2"])
        }
    }
}
