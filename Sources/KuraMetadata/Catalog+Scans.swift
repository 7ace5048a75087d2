extension Catalog {
    /// Image scan results and pull policies: kept by the embedded SQLite catalog. A stored
    /// property of the front (and a member of ``CatalogStores``) once every implementation
    /// keeps them.
    public var scans: (any ScanStore)? { embedded }
}
