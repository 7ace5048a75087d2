import Foundation
import KuraAccess
import KuraCore
import KuraMetadata
import KuraTestSupport
import Logging
import Testing

/// AccessControl's node-local copies of keys, accounts and namespaces: dropped when the
/// catalog announces a change, never older than a second (on an injected clock) when a change
/// goes unannounced, and not kept at all while the feed is down.
@Suite struct AccessCacheTests {
    /// Two handles on one SQLite file: `node` is the server's (its writes are announced to
    /// its caches), `other` stands for another process writing the same file (a `kura`
    /// command), whose writes nobody announces.
    struct Setup {
        let node: SQLiteMetadataStore
        let other: SQLiteMetadataStore
        let clock: ManualClock
        let access: AccessControl
        let hasher: SecretHasher
    }

    private func withSetup<T>(_ body: (Setup) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-access-cache-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let path = folder + "/catalog.sqlite"
            let node = try SQLiteMetadataStore(path: path)
            let other = try SQLiteMetadataStore(path: path)
            let clock = ManualClock()
            let hasher = SecretHasher(keyBytes: Array(repeating: 7, count: 32))
            let tokens = try await TokenService(privateKeyPEM: TokenService.generatePrivateKeyPEM(), service: "kura", lifetime: 300)
            let access = AccessControl(
                store: node, hasher: hasher, tokens: tokens, limiter: LoginRateLimiter(keyLimit: 1000, addressLimit: 1000),
                changes: node.changes, clock: clock, logger: Logger(label: "test"))
            defer {
                try? node.close()
                try? other.close()
            }
            return try await body(Setup(node: node, other: other, clock: clock, access: access, hasher: hasher))
        }
    }

    private func makeKey(_ setup: Setup, in store: SQLiteMetadataStore, id: String = "KCI", account: String = "ci") async throws {
        if try await store.account(named: account) == nil { try await store.createAccount(Account(name: account)) }
        try await store.createKey(AccessKeyRecord(id: id, account: account, secretHash: setup.hasher.hash("secret-\(id)")))
    }

    private func signsIn(_ setup: Setup, _ id: String = "KCI") async throws -> Bool {
        do {
            _ = try await setup.access.authenticate(keyID: id, secret: "secret-\(id)", sourceAddress: "10.0.0.1")
            return true
        } catch AccessControl.AuthenticationError.invalidCredentials {
            return false
        }
    }

    @Test("A key or account disabled through the node's catalog is refused at once, though it was cached")
    func announcedChangesTakeEffectAtOnce() async throws {
        try await withSetup { setup in
            try await makeKey(setup, in: setup.node)
            #expect(try await signsIn(setup))
            #expect(try await setup.node.setKeyStatus("KCI", .disabled))
            #expect(try await signsIn(setup) == false)
            #expect(try await setup.node.setKeyStatus("KCI", .active))
            #expect(try await signsIn(setup))
            #expect(try await setup.node.setAccountDisabled("ci", true))
            #expect(try await signsIn(setup) == false)
            #expect(try await setup.node.setAccountDisabled("ci", false))
            #expect(try await signsIn(setup))
            // A grant given is used at once, too.
            let repository = try RepositoryName(parsing: "team/app")
            let principal = try await setup.access.authenticate(keyID: "KCI", secret: "secret-KCI", sourceAddress: nil)
            #expect(try await setup.access.allowedActions(principal, on: repository).isEmpty)
            try await setup.node.setGrant(Grant(account: "ci", namespace: "team", role: .viewer))
            let granted = try await setup.access.authenticate(keyID: "KCI", secret: "secret-KCI", sourceAddress: nil)
            #expect(try await setup.access.allowedActions(granted, on: repository) == [.pull])
        }
    }

    @Test("A change nobody announces (another process on the SQLite file) takes effect when the cached copy is a second old")
    func unannouncedChangesTakeEffectWithinTheLifetime() async throws {
        try await withSetup { setup in
            try await makeKey(setup, in: setup.node)
            try await setup.node.createNamespace(NamespaceRecord(name: "open", isPublic: true))
            let repository = try RepositoryName(parsing: "open/app")
            #expect(try await signsIn(setup))
            #expect(try await setup.access.canPull(.anonymous, repository))

            #expect(try await setup.other.setKeyStatus("KCI", .disabled))
            #expect(try await setup.other.setNamespacePublic("open", false))
            // The copies this node holds are what it serves until they are a second old:
            // this is the bound the cache keeps when it is not told.
            setup.clock.advance(by: .milliseconds(999))
            #expect(try await signsIn(setup), "the cached key, 999 ms old")
            #expect(try await setup.access.canPull(.anonymous, repository), "the cached namespace, 999 ms old")
            setup.clock.advance(by: .milliseconds(1))
            #expect(try await signsIn(setup) == false)
            #expect(try await setup.access.canPull(.anonymous, repository) == false)
        }
    }

    @Test("While the change feed is down nothing is served from the cache")
    func nothingIsCachedWhileTheFeedIsDown() async throws {
        try await withSetup { setup in
            try await makeKey(setup, in: setup.node)
            setup.node.changes.setLive(false)
            #expect(try await signsIn(setup))
            #expect(try await setup.other.setKeyStatus("KCI", .disabled))
            #expect(try await signsIn(setup) == false, "refused at once: the key was read from the catalog")
            #expect(try await setup.other.setKeyStatus("KCI", .active))
            #expect(try await signsIn(setup))

            // Live again: cached again (so an unannounced change waits for the lifetime).
            setup.node.changes.setLive(true)
            #expect(try await signsIn(setup))
            #expect(try await setup.other.setKeyStatus("KCI", .disabled))
            #expect(try await signsIn(setup), "served from the cache once the feed is live")
            setup.clock.advance(by: .seconds(1))
            #expect(try await signsIn(setup) == false)
        }
    }

    @Test("An unknown key is not remembered: a key created elsewhere works at once")
    func unknownKeysAreNotCached() async throws {
        try await withSetup { setup in
            try await setup.node.createAccount(Account(name: "ci"))
            #expect(try await signsIn(setup, "KNEW") == false)
            try await makeKey(setup, in: setup.other, id: "KNEW")
            #expect(try await signsIn(setup, "KNEW"))
            // Likewise a namespace: unknown (private) here, then created public elsewhere.
            let repository = try RepositoryName(parsing: "fresh/app")
            #expect(try await setup.access.canPull(.anonymous, repository) == false)
            try await setup.other.createNamespace(NamespaceRecord(name: "fresh", isPublic: true))
            #expect(try await setup.access.canPull(.anonymous, repository))
        }
    }
}
