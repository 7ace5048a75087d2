public import Foundation

/// An account: root, or a sub-account that root (or an account admin) manages.
public struct Account: Sendable, Hashable, Codable {
    public var name: String
    public var isRoot: Bool
    /// May manage other accounts, their keys and grants.
    public var isAdmin: Bool
    public var disabled: Bool
    public var createdAt: Date

    public init(name: String, isRoot: Bool = false, isAdmin: Bool = false, disabled: Bool = false, createdAt: Date = Date()) {
        self.name = name
        self.isRoot = isRoot
        self.isAdmin = isAdmin
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

/// An access key: a public id and a secret, stored only as a keyed hash.
public struct AccessKeyRecord: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable {
        case active
        case disabled
    }

    public var id: String
    public var account: String
    public var secretHash: [UInt8]
    public var status: Status
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(id: String, account: String, secretHash: [UInt8], status: Status = .active, createdAt: Date = Date(), lastUsedAt: Date? = nil) {
        self.id = id
        self.account = account
        self.secretHash = secretHash
        self.status = status
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// What an account may do in a namespace.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    /// Push, pull, delete images and tags, create and delete namespaces, edit metadata.
    case manager
    /// Pull only.
    case viewer
}

/// A role for an account in one namespace, or in all (`namespace == "*"`).
public struct Grant: Sendable, Hashable, Codable {
    public static let allNamespaces = "*"

    public var account: String
    public var namespace: String
    public var role: Role

    public init(account: String, namespace: String, role: Role) {
        self.account = account
        self.namespace = namespace
        self.role = role
    }
}

/// A namespace: the first component of a repository name.
public struct NamespaceRecord: Sendable, Hashable, Codable {
    public var name: String
    /// Anyone, even without credentials, may pull.
    public var isPublic: Bool
    public var createdAt: Date

    public init(name: String, isPublic: Bool = false, createdAt: Date = Date()) {
        self.name = name
        self.isPublic = isPublic
        self.createdAt = createdAt
    }
}

/// A repository's descriptions.
public struct RepositoryDescription: Sendable, Hashable, Codable {
    public var repository: String
    /// At most 100 characters.
    public var short: String
    /// Markdown, at most 64 KiB.
    public var full: String
    public var updatedAt: Date

    public init(repository: String, short: String, full: String, updatedAt: Date = Date()) {
        self.repository = repository
        self.short = short
        self.full = full
        self.updatedAt = updatedAt
    }
}

/// One entry of the audit log.
public struct AuditEvent: Sendable, Hashable, Codable {
    public var id: Int64?
    public var time: Date
    public var account: String?
    public var accessKeyID: String?
    public var sourceAddress: String?
    /// e.g. `manifest.push`, `manifest.delete`, `login.failure`, `key.create`, `grant.set`.
    public var action: String
    public var namespace: String?
    public var repository: String?
    public var detail: String?

    public init(
        time: Date = Date(), account: String?, accessKeyID: String?, sourceAddress: String?, action: String,
        namespace: String? = nil, repository: String? = nil, detail: String? = nil
    ) {
        self.time = time
        self.account = account
        self.accessKeyID = accessKeyID
        self.sourceAddress = sourceAddress
        self.action = action
        self.namespace = namespace
        self.repository = repository
        self.detail = detail
    }
}

/// A filter over the audit log; `nil` fields match everything.
public struct AuditQuery: Sendable, Hashable {
    public var account: String?
    public var namespace: String?
    public var action: String?
    public var since: Date?
    public var until: Date?
    public var limit: Int

    public init(account: String? = nil, namespace: String? = nil, action: String? = nil, since: Date? = nil, until: Date? = nil, limit: Int = 1000) {
        self.account = account
        self.namespace = namespace
        self.action = action
        self.since = since
        self.until = until
        self.limit = limit
    }
}

/// Why an access-store write was refused.
public enum AccessStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicate(String)
    case notFound(String)
    case tooManyActiveKeys(account: String, limit: Int)

    public var description: String {
        switch self {
        case .duplicate(let what): "\(what) already exists"
        case .notFound(let what): "\(what) does not exist"
        case .tooManyActiveKeys(let account, let limit): "account \(account) already has \(limit) active keys"
        }
    }
}

/// The access part of the catalog: accounts, keys, grants, namespaces, descriptions and the
/// audit log. Every method is atomic.
public protocol AccessStore: ConsoleSessionStore {
    /// The most active keys an account may hold.
    static var maximumActiveKeys: Int { get }

    func createAccount(_ account: Account) async throws
    func account(named name: String) async throws -> Account?
    func accounts() async throws -> [Account]
    @discardableResult func setAccountDisabled(_ name: String, _ disabled: Bool) async throws -> Bool
    /// Deletes the account with its keys and grants.
    @discardableResult func deleteAccount(_ name: String) async throws -> Bool

    /// Stores a key; refuses a third active key for the account.
    func createKey(_ key: AccessKeyRecord) async throws
    func key(id: String) async throws -> AccessKeyRecord?
    func keys(of account: String) async throws -> [AccessKeyRecord]
    @discardableResult func setKeyStatus(_ id: String, _ status: AccessKeyRecord.Status) async throws -> Bool
    @discardableResult func deleteKey(_ id: String) async throws -> Bool
    func touchKey(_ id: String, at time: Date) async throws

    func setGrant(_ grant: Grant) async throws
    @discardableResult func removeGrant(account: String, namespace: String) async throws -> Bool
    func grants(of account: String) async throws -> [Grant]

    func createNamespace(_ namespace: NamespaceRecord) async throws
    func namespace(named name: String) async throws -> NamespaceRecord?
    func namespaces() async throws -> [NamespaceRecord]
    @discardableResult func setNamespacePublic(_ name: String, _ isPublic: Bool) async throws -> Bool
    /// Deletes the namespace record and its grants (repositories are the caller's business).
    @discardableResult func deleteNamespace(_ name: String) async throws -> Bool

    /// Sets the fields given (`nil` leaves a field as it is) in one transaction and returns
    /// the description as stored.
    func updateDescription(of repository: String, short: String?, full: String?, at time: Date) async throws -> RepositoryDescription
    func description(of repository: String) async throws -> RepositoryDescription?
    /// The short descriptions of `repositories` that have one set (others are left out), in
    /// one query: the namespace page's column.
    func shortDescriptions(of repositories: [String]) async throws -> [String: String]

    func appendAudit(_ event: AuditEvent) async throws
    func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent]
}
