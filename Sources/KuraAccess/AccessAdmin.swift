import Foundation
public import KuraCore
public import KuraMetadata
public import KuraRegistry

/// The operations of the admin API and `kura admin`, each checked against the caller:
/// namespaces, accounts, access keys, grants, repository descriptions and the audit log.
public struct AccessAdmin: Sendable {
    public static let maximumShortDescription = 100
    public static let maximumFullDescriptionBytes = 64 << 10

    public let access: AccessControl
    public let registry: Registry

    public init(access: AccessControl, registry: Registry) {
        self.access = access
        self.registry = registry
    }

    var store: any AccessStore { access.store }

    /// Who is calling, for permission checks and the audit log.
    public struct Caller: Sendable {
        public var principal: Principal
        public var sourceAddress: String?

        public init(principal: Principal, sourceAddress: String?) {
            self.principal = principal
            self.sourceAddress = sourceAddress
        }
    }

    func audit(_ caller: Caller, _ action: String, namespace: String? = nil, repository: String? = nil, detail: String? = nil) async {
        await access.audit(
            AuditEvent(
                account: caller.principal.accountName, accessKeyID: caller.principal.keyID, sourceAddress: caller.sourceAddress,
                action: action, namespace: namespace, repository: repository, detail: detail))
    }

    func requireAdmin(_ caller: Caller) throws {
        guard caller.principal.isAdmin else { throw AdminError.denied("only root or an account admin may do this") }
    }

    func requireManager(_ caller: Caller, of namespace: String) throws {
        guard caller.principal.isAdmin || caller.principal.role(in: namespace) == .manager else {
            throw AdminError.denied("only a manager of namespace \(namespace) may do this")
        }
    }

    // MARK: namespaces

    /// A namespace name is one component of a repository name.
    public static func validateNamespace(_ name: String) throws {
        guard !name.contains("/"), (try? RepositoryName(parsing: name)) != nil else {
            throw AdminError.invalid(
                "invalid namespace name \(name.debugDescription): lowercase letters and digits, separated by . _ __ or -")
        }
    }

    public func namespaces(_ caller: Caller) async throws -> [NamespaceRecord] {
        let all = try await store.namespaces()
        if caller.principal.isAdmin { return all }
        return all.filter { $0.isPublic || caller.principal.role(in: $0.name) != nil }
    }

    public func createNamespace(_ caller: Caller, name: String, isPublic: Bool) async throws -> NamespaceRecord {
        try Self.validateNamespace(name)
        guard caller.principal.isAdmin || caller.principal.role(in: Grant.allNamespaces) == .manager else {
            throw AdminError.denied("creating a namespace needs root, an account admin, or manager on all namespaces")
        }
        let record = NamespaceRecord(name: name, isPublic: isPublic)
        do { try await store.createNamespace(record) } catch AccessStoreError.duplicate {
            throw AdminError.conflict("namespace \(name) already exists")
        }
        await audit(caller, "namespace.create", namespace: name, detail: isPublic ? "public" : "private")
        return record
    }

    public func setNamespacePublic(_ caller: Caller, name: String, isPublic: Bool) async throws {
        try Self.validateNamespace(name)
        try requireManager(caller, of: name)
        guard try await store.setNamespacePublic(name, isPublic) else { throw AdminError.notFound("namespace \(name) does not exist") }
        await audit(caller, "namespace.update", namespace: name, detail: isPublic ? "public" : "private")
    }

    /// Deletes a namespace; one with repositories only with `force`, which deletes them too.
    public func deleteNamespace(_ caller: Caller, name: String, force: Bool) async throws -> [RepositoryName] {
        try Self.validateNamespace(name)
        try requireManager(caller, of: name)
        guard try await store.namespace(named: name) != nil else { throw AdminError.notFound("namespace \(name) does not exist") }
        let repositories = try await repositories(inNamespace: name)
        if !repositories.isEmpty, !force {
            throw AdminError.conflict("namespace \(name) holds \(repositories.count) repositories; delete with force to remove them too")
        }
        for repository in repositories { try await registry.deleteRepository(repository) }
        try await store.deleteNamespace(name)
        await audit(
            caller, "namespace.delete", namespace: name, detail: repositories.isEmpty ? nil : "removed \(repositories.count) repositories")
        return repositories
    }

    /// The repositories of a namespace: `namespace` itself and every `namespace/…`, which
    /// follow `namespace/` contiguously in byte order.
    func repositories(inNamespace namespace: String) async throws -> [RepositoryName] {
        var result: [RepositoryName] = []
        if let exact = try? RepositoryName(parsing: namespace), try await registry.catalog.metadata.repositoryExists(exact) {
            result.append(exact)
        }
        let prefix = namespace + "/"
        var after = prefix
        while true {
            let page = try await registry.catalog.metadata.repositories(after: after, limit: 1000)
            let inside = page.prefix { $0.value.hasPrefix(prefix) }
            result += inside
            guard inside.count == page.count, page.count == 1000, let last = page.last else { break }
            after = last.value
        }
        return result
    }

    // MARK: accounts

    public func accounts(_ caller: Caller) async throws -> [Account] {
        try requireAdmin(caller)
        return try await store.accounts()
    }

    public func createAccount(_ caller: Caller, name: String, isAdmin: Bool) async throws -> Account {
        try requireAdmin(caller)
        guard Self.isValidAccountName(name) else {
            throw AdminError.invalid("invalid account name \(name.debugDescription): 1–64 of a-z 0-9 . _ -, starting with a letter or digit")
        }
        if isAdmin, !caller.principal.isRoot { throw AdminError.denied("only root may create account admins") }
        let account = Account(name: name, isAdmin: isAdmin)
        do { try await store.createAccount(account) } catch AccessStoreError.duplicate {
            throw AdminError.conflict("account \(name) already exists")
        }
        await audit(caller, "account.create", detail: "\(name)\(isAdmin ? " (admin)" : "")")
        return account
    }

    public func setAccountDisabled(_ caller: Caller, name: String, disabled: Bool) async throws {
        try requireAdmin(caller)
        let account = try await existingAccount(name)
        if account.isRoot { throw AdminError.denied("the root account cannot be disabled") }
        if account.isAdmin, !caller.principal.isRoot { throw AdminError.denied("only root may disable an account admin") }
        try await store.setAccountDisabled(name, disabled)
        await audit(caller, disabled ? "account.disable" : "account.enable", detail: name)
    }

    public func deleteAccount(_ caller: Caller, name: String) async throws {
        try requireAdmin(caller)
        let account = try await existingAccount(name)
        if account.isRoot { throw AdminError.denied("the root account cannot be deleted") }
        if account.isAdmin, !caller.principal.isRoot { throw AdminError.denied("only root may delete an account admin") }
        try await store.deleteAccount(name)
        await audit(caller, "account.delete", detail: name)
    }

    private func existingAccount(_ name: String) async throws -> Account {
        guard let account = try await store.account(named: name) else { throw AdminError.notFound("account \(name) does not exist") }
        return account
    }

    static func isValidAccountName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        return alnum(first) && bytes.allSatisfy { alnum($0) || $0 == 46 || $0 == 95 || $0 == 45 }
    }

    // MARK: keys

    /// A new key's id and its secret (shown once, never stored).
    public struct NewKey: Sendable, Codable {
        public var accessKeyID: String
        public var secretKey: String
        public var account: String
    }

    private func requireSelfOrAdmin(_ caller: Caller, _ account: String) throws {
        guard caller.principal.isAdmin || caller.principal.accountName == account else {
            throw AdminError.denied("only the account itself or an admin may manage its keys")
        }
    }

    public func keys(_ caller: Caller, account: String) async throws -> [AccessKeyRecord] {
        try requireSelfOrAdmin(caller, account)
        _ = try await existingAccount(account)
        return try await store.keys(of: account)
    }

    public func createKey(_ caller: Caller, account: String) async throws -> NewKey {
        try requireSelfOrAdmin(caller, account)
        let owner = try await existingAccount(account)
        if owner.isRoot, !caller.principal.isRoot { throw AdminError.denied("only root manages root's keys") }
        let id = AccessKeyGenerator.newID()
        let secret = AccessKeyGenerator.newSecret()
        do {
            try await store.createKey(AccessKeyRecord(id: id, account: account, secretHash: access.hasher.hash(secret)))
        } catch AccessStoreError.tooManyActiveKeys(_, let limit) {
            throw AdminError.conflict("account \(account) already has \(limit) active keys; disable or delete one first")
        }
        await audit(caller, "key.create", detail: "\(id) for \(account)")
        return NewKey(accessKeyID: id, secretKey: secret, account: account)
    }

    private func ownedKey(_ caller: Caller, _ id: String) async throws -> AccessKeyRecord {
        guard let key = try await store.key(id: id) else { throw AdminError.notFound("access key \(id) does not exist") }
        try requireSelfOrAdmin(caller, key.account)
        if try await existingAccount(key.account).isRoot, !caller.principal.isRoot {
            throw AdminError.denied("only root manages root's keys")
        }
        return key
    }

    public func setKeyStatus(_ caller: Caller, id: String, status: AccessKeyRecord.Status) async throws {
        let key = try await ownedKey(caller, id)
        do { try await store.setKeyStatus(id, status) } catch AccessStoreError.tooManyActiveKeys(_, let limit) {
            throw AdminError.conflict("account \(key.account) already has \(limit) active keys")
        }
        await audit(caller, status == .active ? "key.enable" : "key.disable", detail: "\(id) of \(key.account)")
    }

    public func deleteKey(_ caller: Caller, id: String) async throws {
        let key = try await ownedKey(caller, id)
        try await store.deleteKey(id)
        await audit(caller, "key.delete", detail: "\(id) of \(key.account)")
    }

    // MARK: grants

    public func grants(_ caller: Caller, account: String) async throws -> [Grant] {
        try requireSelfOrAdmin(caller, account)
        _ = try await existingAccount(account)
        return try await store.grants(of: account)
    }

    public func setGrant(_ caller: Caller, account: String, namespace: String, role: Role) async throws {
        try requireAdmin(caller)
        if namespace != Grant.allNamespaces { try Self.validateNamespace(namespace) }
        if try await existingAccount(account).isRoot { throw AdminError.invalid("root holds every role already") }
        try await store.setGrant(Grant(account: account, namespace: namespace, role: role))
        await audit(
            caller, "grant.set", namespace: namespace == Grant.allNamespaces ? nil : namespace,
            detail: "\(account): \(role.rawValue) on \(namespace)")
    }

    public func removeGrant(_ caller: Caller, account: String, namespace: String) async throws {
        try requireAdmin(caller)
        guard try await store.removeGrant(account: account, namespace: namespace) else {
            throw AdminError.notFound("account \(account) has no grant on \(namespace)")
        }
        await audit(caller, "grant.remove", namespace: namespace == Grant.allNamespaces ? nil : namespace, detail: "\(account) on \(namespace)")
    }

    // MARK: descriptions

    public func description(_ caller: Caller, repository: RepositoryName) async throws -> RepositoryDescription {
        guard try await access.canPull(caller.principal, repository) || caller.principal.isAdmin else {
            throw AdminError.denied("pull access to \(repository) is needed to read its description")
        }
        return try await store.description(of: repository.value)
            ?? RepositoryDescription(repository: repository.value, short: "", full: "", updatedAt: Date(timeIntervalSince1970: 0))
    }

    /// Sets the fields given (`nil`: unchanged; empty: cleared) of an existing repository's
    /// description. `NAME_UNKNOWN` for a repository the registry does not hold.
    public func setDescription(_ caller: Caller, repository: RepositoryName, short: String?, full: String?) async throws
        -> RepositoryDescription
    {
        try requireManager(caller, of: String(repository.firstComponent))
        guard short != nil || full != nil else { throw AdminError.invalid("give short, full or both") }
        if let short {
            guard short.count <= Self.maximumShortDescription else {
                throw AdminError.invalid("the short description has \(short.count) characters; the limit is \(Self.maximumShortDescription)")
            }
            guard !short.contains(where: { $0.isNewline }) else { throw AdminError.invalid("the short description is one line") }
        }
        if let full, full.utf8.count > Self.maximumFullDescriptionBytes {
            throw AdminError.invalid("the full description has \(full.utf8.count) bytes; the limit is \(Self.maximumFullDescriptionBytes)")
        }
        guard try await registry.catalog.metadata.repositoryExists(repository) else { throw RegistryError(.nameUnknown, detail: repository.value) }
        let description = try await store.updateDescription(of: repository.value, short: short, full: full, at: Date())
        let fields = [short.map { _ in "short" }, full.map { _ in "full" }].compactMap { $0 }.joined(separator: ", ")
        await audit(caller, "description.update", namespace: String(repository.firstComponent), repository: repository.value, detail: fields)
        return description
    }

    // MARK: audit

    public func auditEvents(_ caller: Caller, _ query: AuditQuery) async throws -> [AuditEvent] {
        try requireAdmin(caller)
        return try await store.auditEvents(query)
    }
}
