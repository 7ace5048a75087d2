import Foundation
import KuraCore
public import KuraMetadata

extension AccessAdmin {
    private var retentionStore: any RetentionStore { registry.catalog.retention }

    /// The retention policies of a namespace: its own and its repositories' (managers of
    /// the namespace and admins).
    public func retentionPolicies(_ caller: Caller, namespace: String) async throws -> [RetentionPolicy] {
        try await requireNamespaceManager(caller, namespace)
        return try await retentionStore.retentionPolicies()
            .filter { $0.scope == namespace || $0.scope.hasPrefix(namespace + "/") }
            .sorted { $0.scope < $1.scope }
    }

    /// Sets the policy of a namespace (`team`) or one of its repositories (`team/app`):
    /// `keepLast` and/or `deleteOlderThan` must be given (a policy with neither deletes
    /// nothing), `keepPattern` must compile. The next retention run applies it.
    public func setRetentionPolicy(_ caller: Caller, _ policy: RetentionPolicy) async throws {
        let namespace = try Self.retentionNamespace(of: policy.scope)
        try await requireNamespaceManager(caller, namespace)
        if let keepLast = policy.keepLast, keepLast < 0 { throw AdminError.invalid("keep last must be 0 or more") }
        if let age = policy.deleteOlderThan, !(age > 0) { throw AdminError.invalid("delete older than must be a positive duration") }
        guard policy.keepLast != nil || policy.deleteOlderThan != nil else {
            throw AdminError.invalid("give keep last, delete older than, or both")
        }
        if let pattern = policy.keepPattern {
            guard pattern.utf8.count <= 1024, (try? NSRegularExpression(pattern: pattern)) != nil else {
                throw AdminError.invalid("keep pattern is not a valid regular expression (at most 1024 bytes)")
            }
        }
        try await retentionStore.setRetentionPolicy(policy)
        await audit(
            caller, "retention.set", namespace: namespace, repository: policy.scope == namespace ? nil : policy.scope,
            detail: "keepLast=\(policy.keepLast.map(String.init) ?? "-") keepPattern=\(policy.keepPattern ?? "-") "
                + "deleteOlderThan=\(policy.deleteOlderThan.map { "\(Int($0))s" } ?? "-")")
    }

    public func removeRetentionPolicy(_ caller: Caller, scope: String) async throws {
        let namespace = try Self.retentionNamespace(of: scope)
        try await requireNamespaceManager(caller, namespace)
        guard try await retentionStore.removeRetentionPolicy(scope: scope) else { throw AdminError.notFound("no retention policy for \(scope)") }
        await audit(caller, "retention.remove", namespace: namespace, repository: scope == namespace ? nil : scope)
    }

    /// The namespace a scope (`team` or `team/app`) belongs to; a clear error for a bad one.
    static func retentionNamespace(of scope: String) throws -> String {
        guard let name = try? RepositoryName(parsing: scope) else {
            throw AdminError.invalid("invalid scope \(scope.debugDescription): a namespace (team) or a repository (team/app)")
        }
        return String(name.firstComponent)
    }

    /// A manager of an existing namespace, or an admin (webhooks, members, retention).
    func requireNamespaceManager(_ caller: Caller, _ namespace: String) async throws {
        try Self.validateNamespace(namespace)
        try requireManager(caller, of: namespace)
        guard try await store.namespace(named: namespace) != nil else { throw AdminError.notFound("namespace \(namespace) does not exist") }
    }
}
