import KuraMetadata

/// The catalog rows authentication and authorisation read on every request, cached on this
/// node (see ``CatalogReadCache``): keys by id, accounts with their grants by name,
/// namespaces by name. Without them each Basic-authenticated request is three or four
/// catalog round trips before the registry does anything.
struct AccessCaches: Sendable {
    let keys: CatalogReadCache<String, AccessKeyRecord>
    let accounts: CatalogReadCache<String, AccountWithGrants>
    let namespaces: CatalogReadCache<String, NamespaceRecord>

    /// Each copy lives at most this long, whatever the feed says: how stale a node may be
    /// after a change it was not told of.
    static let defaultLifetime = Duration.seconds(1)

    init(feed: CatalogChangeFeed, lifetime: Duration, clock: any Clock<Duration>) {
        // A deleted account takes its keys and grants with it.
        keys = CatalogReadCache(feed: feed, dropOn: [.accessKeys, .accounts], lifetime: lifetime, clock: clock)
        accounts = CatalogReadCache(feed: feed, dropOn: [.accounts, .grants], lifetime: lifetime, clock: clock)
        namespaces = CatalogReadCache(feed: feed, dropOn: [.namespaces], lifetime: lifetime, clock: clock)
    }
}

/// An account and the grants authorisation checks it against (none for root, who needs none).
struct AccountWithGrants: Sendable {
    var account: Account
    var grants: [Grant]
}

extension AccessControl {
    func cachedKey(id: String) async throws -> AccessKeyRecord? {
        guard let caches else { return try await store.key(id: id) }
        return try await caches.keys.value(id) { try await store.key(id: id) }
    }

    func cachedAccount(named name: String) async throws -> AccountWithGrants? {
        let load = { [store] () async throws -> AccountWithGrants? in
            guard let account = try await store.account(named: name) else { return nil }
            return AccountWithGrants(account: account, grants: account.isRoot ? [] : try await store.grants(of: name))
        }
        guard let caches else { return try await load() }
        return try await caches.accounts.value(name, load: load)
    }

    func cachedNamespace(named name: String) async throws -> NamespaceRecord? {
        guard let caches else { return try await store.namespace(named: name) }
        return try await caches.namespaces.value(name) { try await store.namespace(named: name) }
    }
}
