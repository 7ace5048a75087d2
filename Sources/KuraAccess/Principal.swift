public import KuraMetadata

/// Who is making a request, and what they may do.
public struct Principal: Sendable, Hashable {
    public enum Identity: Sendable, Hashable {
        case anonymous
        case account(name: String, keyID: String?, isRoot: Bool, isAdmin: Bool)
    }

    public var identity: Identity
    /// The account's grants (empty for anonymous and root, who need none).
    public var grants: [Grant]
    /// For a bearer token: exactly the repository actions the token carries. `nil` when the
    /// principal authenticated with its key (Basic), so its grants decide.
    public var tokenAccess: [AccessScope]?

    public init(identity: Identity, grants: [Grant], tokenAccess: [AccessScope]? = nil) {
        self.identity = identity
        self.grants = grants
        self.tokenAccess = tokenAccess
    }

    public static let anonymous = Principal(identity: .anonymous, grants: [])

    public var isAnonymous: Bool { identity == .anonymous }

    public var accountName: String? {
        if case .account(let name, _, _, _) = identity { return name }
        return nil
    }

    public var keyID: String? {
        if case .account(_, let keyID, _, _) = identity { return keyID }
        return nil
    }

    public var isRoot: Bool {
        if case .account(_, _, true, _) = identity { return true }
        return false
    }

    public var isAdmin: Bool {
        if case .account(_, _, let root, let admin) = identity { return root || admin }
        return false
    }

    /// The role the principal's grants give it in `namespace` (the stronger of a grant on
    /// the namespace and one on all namespaces).
    public func role(in namespace: String) -> Role? {
        if isRoot { return .manager }
        let roles = grants.filter { $0.namespace == namespace || $0.namespace == Grant.allNamespaces }.map(\.role)
        if roles.contains(.manager) { return .manager }
        return roles.first
    }

    /// The repository actions the principal's grants allow in `namespace` (ignoring a token).
    public func grantedActions(in namespace: String, isPublic: Bool) -> Set<RegistryAction> {
        var actions: Set<RegistryAction> = isPublic ? [.pull] : []
        switch role(in: namespace) {
        case .manager: actions.formUnion([.pull, .push, .delete])
        case .viewer: actions.insert(.pull)
        case nil: break
        }
        return actions
    }
}
