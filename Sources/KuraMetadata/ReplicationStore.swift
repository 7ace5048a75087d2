/// A replication rule as the catalog keeps it: its name and its document, JSON with every
/// password sealed (KuraMirror's format; the catalog does not read it).
public struct ReplicationRuleRecord: Sendable, Hashable {
    public var name: String
    public var document: [UInt8]

    public init(name: String, document: [UInt8]) {
        self.name = name
        self.document = document
    }
}

/// Replication rules in the catalog, so every node sharing it runs the same rules.
public protocol ReplicationStore: Sendable {
    /// Every rule, by name.
    func replicationRules() async throws -> [ReplicationRuleRecord]
    /// Adds or replaces the rule of that name.
    func putReplicationRule(_ rule: ReplicationRuleRecord) async throws
    @discardableResult func deleteReplicationRule(named name: String) async throws -> Bool
}
