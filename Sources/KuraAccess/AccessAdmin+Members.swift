import Foundation
public import KuraMetadata

extension AccessAdmin {
    /// Who holds a role in a namespace: a grant on it, or on every namespace (`*`).
    public struct Member: Sendable, Hashable {
        public var account: String
        public var role: Role
        /// Granted on `*`, not on this namespace by name.
        public var viaAllNamespaces: Bool
    }

    /// A namespace's members, by account name; its managers and admins may read them
    /// (granting stays with admins, ``setGrant(_:account:namespace:role:)``).
    public func members(_ caller: Caller, namespace: String) async throws -> [Member] {
        try await requireNamespaceManager(caller, namespace)
        var members: [Member] = []
        for account in try await store.accounts() where !account.isRoot {
            let grants = try await store.grants(of: account.name)
            if let named = grants.first(where: { $0.namespace == namespace }) {
                members.append(Member(account: account.name, role: named.role, viaAllNamespaces: false))
            } else if let all = grants.first(where: { $0.namespace == Grant.allNamespaces }) {
                members.append(Member(account: account.name, role: all.role, viaAllNamespaces: true))
            }
        }
        return members.sorted { $0.account < $1.account }
    }
}
