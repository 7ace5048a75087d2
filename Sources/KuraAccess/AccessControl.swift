import Foundation
public import KuraCore
public import KuraMetadata
public import Logging
import Synchronization

/// Authentication and authorisation for the registry: who a request comes from (access key,
/// bearer token, or nobody) and what it may do to a repository.
public final class AccessControl: Sendable {
    public enum AuthenticationError: Error, Sendable, Equatable {
        case invalidCredentials
        case rateLimited(retryAfterSeconds: Int)
        case invalidToken(String)
    }

    public let store: any AccessStore
    public let tokens: TokenService
    public let autoCreateNamespaces: Bool
    let hasher: SecretHasher
    let limiter: LoginRateLimiter
    let logger: Logger
    /// This node's copies of keys, accounts and namespaces; `nil` without a change feed.
    let caches: AccessCaches?

    /// With `changes` (the catalog's feed), keys, accounts with their grants and namespaces
    /// are cached on this node, each copy at most `cacheLifetime` on `clock`; without it
    /// every request reads them from the catalog.
    public init(
        store: any AccessStore, hasher: SecretHasher, tokens: TokenService, limiter: LoginRateLimiter = LoginRateLimiter(),
        autoCreateNamespaces: Bool = false, changes: CatalogChangeFeed? = nil, cacheLifetime: Duration = .seconds(1),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        caches = changes.map { AccessCaches(feed: $0, lifetime: cacheLifetime, clock: clock) }
        self.store = store
        self.hasher = hasher
        self.tokens = tokens
        self.limiter = limiter
        self.autoCreateNamespaces = autoCreateNamespaces
        self.logger = logger
    }

    // MARK: authentication

    /// Checks an access key id and secret. Failures are counted per address and key id,
    /// audited, and answered identically whatever was wrong.
    public func authenticate(keyID: String, secret: String, sourceAddress: String?) async throws -> Principal {
        if let wait = await limiter.retryAfter(address: sourceAddress, keyID: keyID) {
            throw AuthenticationError.rateLimited(retryAfterSeconds: wait)
        }
        if let key = try await cachedKey(id: keyID), key.status == .active,
            let found = try await cachedAccount(named: key.account), !found.account.disabled,
            hasher.verify(secret, against: key.secretHash)
        {
            let account = found.account
            await recordUse(of: key)
            return Principal(
                identity: .account(name: account.name, keyID: key.id, isRoot: account.isRoot, isAdmin: account.isAdmin), grants: found.grants)
        }
        // Hash anyway when the key is unknown, so timing does not reveal which ids exist.
        _ = hasher.hash(secret)
        await limiter.recordFailure(address: sourceAddress, keyID: keyID)
        await audit(AuditEvent(account: nil, accessKeyID: keyID, sourceAddress: sourceAddress, action: "login.failure"))
        throw AuthenticationError.invalidCredentials
    }

    /// Keeps a key's "last used" time, to the minute: a catalog write per request would
    /// cost every Basic-authenticated request a write. Tokens are issued through a login,
    /// so a key used through tokens is seen at each token request. A failed write costs
    /// only the timestamp, never the login.
    private func recordUse(of key: AccessKeyRecord, now: Date = Date()) async {
        if let last = key.lastUsedAt, now.timeIntervalSince(last) < 60 { return }
        do {
            try await store.touchKey(key.id, at: now)
            caches?.keys.update(key.id) { $0.lastUsedAt = now }
        } catch {}
    }

    /// Verifies a bearer token and returns the principal it stands for, limited to the
    /// token's access.
    public func authenticate(token: String) async throws -> Principal {
        let verified: TokenService.Verified
        do { verified = try await tokens.verify(token) } catch {
            throw AuthenticationError.invalidToken("\(error)")
        }
        // Anonymous tokens (public pulls) carry only what public namespaces allow.
        if verified.account.isEmpty {
            return Principal(identity: .anonymous, grants: [], tokenAccess: verified.access)
        }
        // A disabled or deleted account's tokens stop working at once.
        guard let found = try await cachedAccount(named: verified.account), !found.account.disabled else {
            throw AuthenticationError.invalidToken("account \(verified.account) is disabled or gone")
        }
        // So do the tokens of a disabled or deleted key, or one now owned by someone else.
        if let keyID = verified.keyID {
            guard let key = try await cachedKey(id: keyID), key.status == .active, key.account == found.account.name else {
                throw AuthenticationError.invalidToken("access key \(keyID) is disabled or gone")
            }
        }
        let account = found.account
        return Principal(
            identity: .account(name: account.name, keyID: verified.keyID, isRoot: account.isRoot, isAdmin: account.isAdmin),
            grants: found.grants, tokenAccess: verified.access)
    }

    // MARK: authorisation

    /// The actions the principal may take on `repository`: a token's scopes, or else the
    /// grants (and a public namespace's pull). Without `anonymousPull` (an endpoint that
    /// admits only signed-in callers) an anonymous principal may do nothing, whatever its
    /// token says.
    public func allowedActions(
        _ principal: Principal, on repository: RepositoryName, anonymousPull: Bool = true
    ) async throws -> Set<RegistryAction> {
        if principal.isAnonymous && !anonymousPull { return [] }
        if let access = principal.tokenAccess {
            var actions = Set<RegistryAction>()
            for scope in access where scope.type == "repository" && scope.name == repository.value {
                actions.formUnion(scope.actions.compactMap(RegistryAction.init(rawValue:)))
            }
            // Never more than the grants allow now: a removed grant (or a namespace made
            // private) takes effect at once, not when the token expires.
            return actions.isEmpty ? [] : actions.intersection(try await grantedActions(principal, on: repository))
        }
        return try await grantedActions(principal, on: repository)
    }

    private func grantedActions(_ principal: Principal, on repository: RepositoryName) async throws -> Set<RegistryAction> {
        let namespace = String(repository.firstComponent)
        let isPublic = try await cachedNamespace(named: namespace)?.isPublic ?? false
        return principal.grantedActions(in: namespace, isPublic: isPublic)
    }

    /// Whether the principal may pull from `repository` (mount sources).
    public func canPull(_ principal: Principal, _ repository: RepositoryName) async throws -> Bool {
        try await allowedActions(principal, on: repository).contains(.pull)
    }

    /// Whether a repository appears in the principal's catalog: its grants (not a token's
    /// scopes, which name single repositories) or a public namespace. The filter remembers
    /// each namespace's answer, so a page costs one lookup per namespace, not per repository.
    public func catalogFilter(_ principal: Principal) -> @Sendable (RepositoryName) async throws -> Bool {
        let known = Mutex<[String: Bool]>([:])
        return { [self] repository in
            let namespace = String(repository.firstComponent)
            if let answer = known.withLock({ $0[namespace] }) { return answer }
            let isPublic = try await cachedNamespace(named: namespace)?.isPublic ?? false
            let answer = principal.grantedActions(in: namespace, isPublic: isPublic).contains(.pull)
            known.withLock { $0[namespace] = answer }
            return answer
        }
    }

    /// The scopes a token for `principal` may carry, given what the client asked for (none
    /// for an anonymous caller where `anonymousPull` is off).
    public func grantableScopes(
        _ principal: Principal, requested: [AccessScope], anonymousPull: Bool = true
    ) async throws -> [AccessScope] {
        if principal.isAnonymous && !anonymousPull { return [] }
        var granted: [AccessScope] = []
        for scope in requested {
            switch scope.type {
            case "repository":
                guard let name = try? RepositoryName(parsing: scope.name) else { continue }
                let allowed = try await grantedActions(principal, on: name)
                let wanted: Set<RegistryAction> =
                    scope.actions.contains("*")
                    ? Set(RegistryAction.allCases) : Set(scope.actions.compactMap(RegistryAction.init(rawValue:)))
                let actions = RegistryAction.allCases.filter { wanted.contains($0) && allowed.contains($0) }
                if !actions.isEmpty { granted.append(.repository(scope.name, actions)) }
            case "registry" where scope.name == "catalog" && !principal.isAnonymous:
                granted.append(AccessScope(type: "registry", name: "catalog", actions: ["*"]))
            default:
                continue
            }
        }
        return granted
    }

    /// A push may only go into an existing namespace, unless auto-creation is on. Throws
    /// `NAME_UNKNOWN` otherwise.
    public func ensureNamespace(for repository: RepositoryName, principal: Principal) async throws {
        let namespace = String(repository.firstComponent)
        if try await cachedNamespace(named: namespace) != nil { return }
        if autoCreateNamespaces {
            do {
                try await store.createNamespace(NamespaceRecord(name: namespace))
                await audit(
                    AuditEvent(
                        account: principal.accountName, accessKeyID: principal.keyID, sourceAddress: nil, action: "namespace.create",
                        namespace: namespace, detail: "auto-created on push"))
            } catch AccessStoreError.duplicate {
                // Created by a concurrent push.
            }
            return
        }
        throw RegistryError(
            .nameUnknown, "namespace \(namespace) does not exist",
            detail: "a manager creates it first: kura admin namespace create \(namespace)")
    }

    /// Records an audit event, logging (not failing) if the catalog refuses it.
    public func audit(_ event: AuditEvent) async {
        do { try await store.appendAudit(event) } catch {
            logger.error("cannot write audit event", metadata: ["action": "\(event.action)", "error": "\(error)"])
        }
    }
}
