/// The catalog's one front: every store the registry keeps in its database, each behind its
/// own protocol, held together so that no caller has to guess (with a cast) whether the
/// catalog it was handed keeps quotas, usage or webhooks.
///
/// One implementation usually provides them all from one database (``SQLiteMetadataStore``,
/// ``PostgresCatalog``); ``init(_:)`` takes such a value. A new kind of state gets a
/// protocol of its own, a property here and a place in ``CatalogStores``.
public struct Catalog: Sendable {
    /// Repositories, blob links, manifests, tags and upload sessions.
    public let metadata: any MetadataStore
    /// Accounts, keys, grants, namespaces, descriptions and the audit log.
    public let access: any AccessStore
    /// Job leases and runs, GC's guards, scrub.
    public let collection: any GarbageCollectionStore
    public let retention: any RetentionStore
    public let quotas: any QuotaStore
    public let usage: any UsageStore
    public let webhooks: any WebhookStore
    public let replication: any ReplicationStore
    /// Image scan results and pull policies.
    public let scans: any ScanStore
    /// Keys the nodes sharing this catalog must agree on; `nil` for a one-node catalog
    /// (SQLite), whose keys stay in the data folder.
    public let sharedKeys: (any SharedKeyStore)?
    /// The SQLite database, when the catalog is the embedded one: what `kura backup` copies
    /// (a PostgreSQL catalog is backed up with PostgreSQL's own tools).
    public let embedded: SQLiteMetadataStore?
    /// Changes to what nodes cache (accounts, keys, grants, namespaces, webhooks, scan
    /// policies), announced by the catalog's writers to this node's caches. A catalog put
    /// together from parts without one gets a feed that is never live: caches stay off.
    public let changes: CatalogChangeFeed

    /// Whether other nodes write to this catalog too (PostgreSQL), so nothing read from it
    /// may be remembered without their changes being announced.
    public var isShared: Bool { sharedKeys != nil }

    public init(
        metadata: any MetadataStore, access: any AccessStore, collection: any GarbageCollectionStore,
        retention: any RetentionStore, quotas: any QuotaStore, usage: any UsageStore, webhooks: any WebhookStore,
        replication: any ReplicationStore, scans: any ScanStore, sharedKeys: (any SharedKeyStore)? = nil,
        embedded: SQLiteMetadataStore? = nil, changes: CatalogChangeFeed = CatalogChangeFeed(live: false)
    ) {
        self.metadata = metadata
        self.access = access
        self.collection = collection
        self.retention = retention
        self.quotas = quotas
        self.usage = usage
        self.webhooks = webhooks
        self.replication = replication
        self.scans = scans
        self.sharedKeys = sharedKeys
        self.embedded = embedded
        self.changes = changes
    }

    /// Every store from one database that keeps them all.
    public init(_ stores: some CatalogStores) {
        self.init(
            metadata: stores, access: stores, collection: stores, retention: stores, quotas: stores, usage: stores,
            webhooks: stores, replication: stores, scans: stores)
    }

    /// Every store from a PostgreSQL database that several nodes share, keys included.
    public init(_ catalog: PostgresCatalog) {
        self.init(
            metadata: catalog, access: catalog, collection: catalog, retention: catalog, quotas: catalog, usage: catalog,
            webhooks: catalog, replication: catalog, scans: catalog, sharedKeys: catalog, changes: catalog.changes)
    }

    /// Every store from the embedded SQLite database.
    public init(_ store: SQLiteMetadataStore) {
        self.init(
            metadata: store, access: store, collection: store, retention: store, quotas: store, usage: store, webhooks: store,
            replication: store, scans: store, embedded: store, changes: store.changes)
    }
}

/// A database that keeps every store of the ``Catalog``.
public typealias CatalogStores =
    MetadataStore & AccessStore & GarbageCollectionStore & RetentionStore & QuotaStore & UsageStore & WebhookStore
    & ReplicationStore & ScanStore
