import Foundation
import KuraMetadata

extension AccessControl {
    /// The principal of a console session signed in with `keyID`, read afresh on each
    /// request: `nil` once the key is disabled or deleted or its account disabled or
    /// deleted, which ends the session at once.
    public func principal(ofSessionKey keyID: String) async throws -> Principal? {
        guard let key = try await store.key(id: keyID), key.status == .active,
            let account = try await store.account(named: key.account), !account.disabled
        else { return nil }
        let grants = account.isRoot ? [] : try await store.grants(of: account.name)
        return Principal(
            identity: .account(name: account.name, keyID: key.id, isRoot: account.isRoot, isAdmin: account.isAdmin), grants: grants)
    }
}
