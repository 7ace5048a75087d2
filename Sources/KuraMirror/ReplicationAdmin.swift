public import KuraAccess

/// Replication rules and their runs as the admin API and the console offer them: root and
/// account admins only; a rule is validated when stored, its passwords never shown again.
public struct ReplicationAdmin: Sendable {
    public let replicator: Replicator

    public init(replicator: Replicator) { self.replicator = replicator }

    public func rules(_ caller: AccessAdmin.Caller) async throws -> [ReplicationRule] {
        try Self.requireAdmin(caller)
        return await replicator.allRules()
    }

    /// Adds or replaces a rule; an invalid one is refused with the reason.
    public func put(_ caller: AccessAdmin.Caller, _ rule: ReplicationRule) async throws {
        try Self.requireAdmin(caller)
        do { try await replicator.put(rule) } catch let error as MirrorError { throw AdminError.invalid(error.description) }
    }

    public func remove(_ caller: AccessAdmin.Caller, name: String) async throws {
        try Self.requireAdmin(caller)
        guard try await replicator.remove(name) else { throw AdminError.notFound("no replication rule \(name)") }
    }

    /// Starts a run of the rule now (it runs in the background).
    public func run(_ caller: AccessAdmin.Caller, name: String) async throws {
        try Self.requireAdmin(caller)
        guard await replicator.rule(name) != nil else { throw AdminError.notFound("no replication rule \(name)") }
        await replicator.trigger(name, reason: "manual")
    }

    /// Recent runs, newest first, of one rule or all.
    public func runs(_ caller: AccessAdmin.Caller, rule: String?) async throws -> [ReplicationRun] {
        try Self.requireAdmin(caller)
        return await replicator.runs(of: rule)
    }

    /// Refuses everyone but root and account admins (before a request body is read).
    public static func requireAdmin(_ caller: AccessAdmin.Caller) throws {
        guard caller.principal.isRoot || caller.principal.isAdmin else { throw AdminError.denied("replication rules are for root and admins") }
    }
}
