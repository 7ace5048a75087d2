public import Foundation
import Logging
import PostgresNIO

extension PostgresCatalog: AccessStore {
    public static var maximumActiveKeys: Int { 2 }

    // MARK: accounts

    public func createAccount(_ account: Account) async throws {
        defer { announceLocally(.accounts) }
        let inserted = try await rows(
            """
            INSERT INTO accounts (name, is_root, is_admin, disabled, created_at)
            VALUES (\(account.name), \(account.isRoot), \(account.isAdmin), \(account.disabled), \(account.createdAt.catalogMilliseconds))
            ON CONFLICT (name) DO NOTHING RETURNING 1
            """)
        if inserted.isEmpty { throw AccessStoreError.duplicate("account \(account.name)") }
    }

    public func account(named name: String) async throws -> Account? {
        try await rows("SELECT \(unescaped: Self.accountColumns) FROM accounts WHERE name = \(name)").firstDecoded(Self.account)
    }

    public func accounts() async throws -> [Account] {
        try await rows("SELECT \(unescaped: Self.accountColumns) FROM accounts ORDER BY name").decoded(Self.account)
    }

    public func setAccountDisabled(_ name: String, _ disabled: Bool) async throws -> Bool {
        defer { announceLocally(.accounts) }
        return try await !rows("UPDATE accounts SET disabled = \(disabled) WHERE name = \(name) RETURNING 1").isEmpty
    }

    public func deleteAccount(_ name: String) async throws -> Bool {
        defer { announceLocally(.accounts, .accessKeys, .grants) }
        return try await !rows("DELETE FROM accounts WHERE name = \(name) RETURNING 1").isEmpty
    }

    private static let accountColumns = "name, is_root, is_admin, disabled, created_at"

    private static func account(_ row: PostgresRow) throws -> Account {
        let (name, isRoot, isAdmin, disabled, created) = try row.decode((String, Bool, Bool, Bool, Int64).self)
        return Account(name: name, isRoot: isRoot, isAdmin: isAdmin, disabled: disabled, createdAt: Date(catalogMilliseconds: created))
    }

    // MARK: keys

    public func createKey(_ key: AccessKeyRecord) async throws {
        defer { announceLocally(.accessKeys) }
        return try await transaction { connection in
            // The account row, locked, serialises key changes of one account (the limit on
            // active keys holds across nodes).
            guard try await !connection.rows("SELECT 1 FROM accounts WHERE name = \(key.account) FOR UPDATE", self.logger).isEmpty else {
                throw AccessStoreError.notFound("account \(key.account)")
            }
            if key.status == .active {
                try await Self.checkActiveKeys(connection, account: key.account, self.logger)
            }
            let inserted = try await connection.rows(
                """
                INSERT INTO access_keys (id, account, secret_hash, status, created_at, last_used_at)
                VALUES (\(key.id), \(key.account), \(Data(key.secretHash)), \(key.status.rawValue), \(key.createdAt.catalogMilliseconds),
                    \(key.lastUsedAt?.catalogMilliseconds))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """, self.logger)
            if inserted.isEmpty { throw AccessStoreError.duplicate("access key \(key.id)") }
        }
    }

    private static func checkActiveKeys(_ connection: PostgresConnection, account: String, _ logger: Logger) async throws {
        let active = try await connection.rows(
            "SELECT COUNT(*) FROM access_keys WHERE account = \(account) AND status = 'active'", logger
        ).first?.decode(Int64.self) ?? 0
        if active >= maximumActiveKeys { throw AccessStoreError.tooManyActiveKeys(account: account, limit: maximumActiveKeys) }
    }

    public func key(id: String) async throws -> AccessKeyRecord? {
        try await rows("SELECT \(unescaped: Self.keyColumns) FROM access_keys WHERE id = \(id)").firstDecoded(Self.key)
    }

    public func keys(of account: String) async throws -> [AccessKeyRecord] {
        try await rows("SELECT \(unescaped: Self.keyColumns) FROM access_keys WHERE account = \(account) ORDER BY created_at, id").decoded(Self.key)
    }

    public func setKeyStatus(_ id: String, _ status: AccessKeyRecord.Status) async throws -> Bool {
        defer { announceLocally(.accessKeys) }
        return try await transaction { connection in
            guard let row = try await connection.rows("SELECT account, status FROM access_keys WHERE id = \(id)", self.logger).first else {
                return false
            }
            let (account, current) = try row.decode((String, String).self)
            if status == .active, current != "active" {
                _ = try await connection.rows("SELECT 1 FROM accounts WHERE name = \(account) FOR UPDATE", self.logger)
                try await Self.checkActiveKeys(connection, account: account, self.logger)
            }
            return try await !connection.rows("UPDATE access_keys SET status = \(status.rawValue) WHERE id = \(id) RETURNING 1", self.logger).isEmpty
        }
    }

    public func deleteKey(_ id: String) async throws -> Bool {
        defer { announceLocally(.accessKeys) }
        return try await !rows("DELETE FROM access_keys WHERE id = \(id) RETURNING 1").isEmpty
    }

    public func touchKey(_ id: String, at time: Date) async throws {
        _ = try await rows("UPDATE access_keys SET last_used_at = \(time.catalogMilliseconds) WHERE id = \(id)")
    }

    private static let keyColumns = "id, account, secret_hash, status, created_at, last_used_at"

    private static func key(_ row: PostgresRow) throws -> AccessKeyRecord {
        let (id, account, hash, status, created, lastUsed) = try row.decode((String, String, Data, String, Int64, Int64?).self)
        return AccessKeyRecord(
            id: id, account: account, secretHash: Array(hash), status: AccessKeyRecord.Status(rawValue: status) ?? .disabled,
            createdAt: Date(catalogMilliseconds: created), lastUsedAt: lastUsed.map(Date.init(catalogMilliseconds:)))
    }

    // MARK: grants

    public func setGrant(_ grant: Grant) async throws {
        defer { announceLocally(.grants) }
        do {
            _ = try await rows(
                """
                INSERT INTO grants (account, namespace, role) VALUES (\(grant.account), \(grant.namespace), \(grant.role.rawValue))
                ON CONFLICT (account, namespace) DO UPDATE SET role = EXCLUDED.role
                """)
        } catch where Self.sqlState(error) == "23503" {
            throw AccessStoreError.notFound("account \(grant.account)")
        }
    }

    public func removeGrant(account: String, namespace: String) async throws -> Bool {
        defer { announceLocally(.grants) }
        return try await !rows("DELETE FROM grants WHERE account = \(account) AND namespace = \(namespace) RETURNING 1").isEmpty
    }

    public func grants(of account: String) async throws -> [Grant] {
        try await rows("SELECT account, namespace, role FROM grants WHERE account = \(account) ORDER BY namespace").decodedCompact { row in
            let (account, namespace, role) = try row.decode((String, String, String).self)
            return Role(rawValue: role).map { Grant(account: account, namespace: namespace, role: $0) }
        }
    }

    // MARK: namespaces

    public func createNamespace(_ namespace: NamespaceRecord) async throws {
        defer { announceLocally(.namespaces) }
        let inserted = try await rows(
            """
            INSERT INTO namespaces (name, is_public, created_at) VALUES (\(namespace.name), \(namespace.isPublic), \(namespace.createdAt.catalogMilliseconds))
            ON CONFLICT (name) DO NOTHING RETURNING 1
            """)
        if inserted.isEmpty { throw AccessStoreError.duplicate("namespace \(namespace.name)") }
    }

    public func namespace(named name: String) async throws -> NamespaceRecord? {
        try await rows("SELECT name, is_public, created_at FROM namespaces WHERE name = \(name)").firstDecoded(Self.namespace)
    }

    public func namespaces() async throws -> [NamespaceRecord] {
        try await rows("SELECT name, is_public, created_at FROM namespaces ORDER BY name").decoded(Self.namespace)
    }

    public func setNamespacePublic(_ name: String, _ isPublic: Bool) async throws -> Bool {
        defer { announceLocally(.namespaces) }
        return try await !rows("UPDATE namespaces SET is_public = \(isPublic) WHERE name = \(name) RETURNING 1").isEmpty
    }

    public func deleteNamespace(_ name: String) async throws -> Bool {
        defer { announceLocally(.namespaces, .grants) }
        return try await transaction { connection in
            try await connection.query("DELETE FROM grants WHERE namespace = \(name)", logger: self.logger)
            return try await !connection.rows("DELETE FROM namespaces WHERE name = \(name) RETURNING 1", self.logger).isEmpty
        }
    }

    private static func namespace(_ row: PostgresRow) throws -> NamespaceRecord {
        let (name, isPublic, created) = try row.decode((String, Bool, Int64).self)
        return NamespaceRecord(name: name, isPublic: isPublic, createdAt: Date(catalogMilliseconds: created))
    }

    // MARK: descriptions

    public func updateDescription(of repository: String, short: String?, full: String?, at time: Date) async throws
        -> RepositoryDescription
    {
        guard
            let row = try await rows(
                """
                INSERT INTO repository_descriptions AS d (repository, short, "full", updated_at)
                VALUES (\(repository), COALESCE(\(short), ''), COALESCE(\(full), ''), \(time.catalogMilliseconds))
                ON CONFLICT (repository) DO UPDATE SET
                    short = COALESCE(\(short), d.short), "full" = COALESCE(\(full), d."full"), updated_at = EXCLUDED.updated_at
                RETURNING repository, short, "full", updated_at
                """
            ).first
        else { throw AccessStoreError.notFound("repository description \(repository)") }
        return try Self.description(row)
    }

    public func description(of repository: String) async throws -> RepositoryDescription? {
        try await rows("SELECT repository, short, \"full\", updated_at FROM repository_descriptions WHERE repository = \(repository)")
            .firstDecoded(Self.description)
    }

    private static func description(_ row: PostgresRow) throws -> RepositoryDescription {
        let (repository, short, full, updated) = try row.decode((String, String, String, Int64).self)
        return RepositoryDescription(repository: repository, short: short, full: full, updatedAt: Date(catalogMilliseconds: updated))
    }

    // MARK: audit

    public func appendAudit(_ event: AuditEvent) async throws {
        _ = try await rows(
            """
            INSERT INTO audit_events (time, account, access_key_id, source_address, action, namespace, repository, detail)
            VALUES (\(event.time.catalogMilliseconds), \(event.account), \(event.accessKeyID), \(event.sourceAddress), \(event.action),
                \(event.namespace), \(event.repository), \(event.detail))
            """)
    }

    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        try await rows(
            """
            SELECT id, time, account, access_key_id, source_address, action, namespace, repository, detail FROM audit_events
            WHERE (\(query.account)::TEXT IS NULL OR account = \(query.account))
                AND (\(query.namespace)::TEXT IS NULL OR namespace = \(query.namespace))
                AND (\(query.action)::TEXT IS NULL OR action = \(query.action))
                AND (\(query.since?.catalogMilliseconds)::BIGINT IS NULL OR time >= \(query.since?.catalogMilliseconds))
                AND (\(query.until?.catalogMilliseconds)::BIGINT IS NULL OR time < \(query.until?.catalogMilliseconds))
            ORDER BY time DESC, id DESC LIMIT \(max(1, min(query.limit, 10_000)))
            """
        ).decoded { row in
            let (id, time, account, key, source, action, namespace, repository, detail) = try row.decode(
                (Int64, Int64, String?, String?, String?, String, String?, String?, String?).self)
            var event = AuditEvent(
                time: Date(catalogMilliseconds: time), account: account, accessKeyID: key, sourceAddress: source, action: action,
                namespace: namespace, repository: repository, detail: detail)
            event.id = id
            return event
        }
    }
}
