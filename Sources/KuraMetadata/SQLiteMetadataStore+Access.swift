public import Foundation
import GRDB

extension SQLiteMetadataStore: AccessStore {
    public static var maximumActiveKeys: Int { 2 }

    // MARK: accounts

    public func createAccount(_ account: Account) async throws {
        try await write(announcing: .accounts) { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE name = ?", arguments: [account.name]) != nil {
                throw AccessStoreError.duplicate("account \(account.name)")
            }
            try db.execute(
                sql: "INSERT INTO accounts (name, is_root, is_admin, disabled, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [account.name, account.isRoot, account.isAdmin, account.disabled, account.createdAt.catalogMilliseconds])
        }
    }

    public func account(named name: String) async throws -> Account? {
        try await dbWriter.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE name = ?", arguments: [name]).map(Self.account)
        }
    }

    public func accounts() async throws -> [Account] {
        try await dbWriter.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY name").map(Self.account)
        }
    }

    public func setAccountDisabled(_ name: String, _ disabled: Bool) async throws -> Bool {
        try await write(announcing: .accounts) { db in
            try db.execute(sql: "UPDATE accounts SET disabled = ? WHERE name = ?", arguments: [disabled, name])
            return db.changesCount > 0
        }
    }

    public func deleteAccount(_ name: String) async throws -> Bool {
        try await write(announcing: .accounts, .accessKeys, .grants) { db in
            try db.execute(sql: "DELETE FROM accounts WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    private static func account(_ row: Row) -> Account {
        Account(
            name: row["name"], isRoot: row["is_root"], isAdmin: row["is_admin"], disabled: row["disabled"],
            createdAt: Date(catalogMilliseconds: row["created_at"]))
    }

    // MARK: keys

    public func createKey(_ key: AccessKeyRecord) async throws {
        try await write(announcing: .accessKeys) { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE name = ?", arguments: [key.account]) != nil else {
                throw AccessStoreError.notFound("account \(key.account)")
            }
            if key.status == .active {
                let active = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM access_keys WHERE account = ? AND status = 'active'", arguments: [key.account]) ?? 0
                if active >= Self.maximumActiveKeys {
                    throw AccessStoreError.tooManyActiveKeys(account: key.account, limit: Self.maximumActiveKeys)
                }
            }
            if try Row.fetchOne(db, sql: "SELECT 1 FROM access_keys WHERE id = ?", arguments: [key.id]) != nil {
                throw AccessStoreError.duplicate("access key \(key.id)")
            }
            try db.execute(
                sql: "INSERT INTO access_keys (id, account, secret_hash, status, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    key.id, key.account, Data(key.secretHash), key.status.rawValue, key.createdAt.catalogMilliseconds,
                    key.lastUsedAt?.catalogMilliseconds,
                ])
        }
    }

    public func key(id: String) async throws -> AccessKeyRecord? {
        try await dbWriter.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM access_keys WHERE id = ?", arguments: [id]).map(Self.key)
        }
    }

    public func keys(of account: String) async throws -> [AccessKeyRecord] {
        try await dbWriter.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM access_keys WHERE account = ? ORDER BY created_at, id", arguments: [account]).map(Self.key)
        }
    }

    public func setKeyStatus(_ id: String, _ status: AccessKeyRecord.Status) async throws -> Bool {
        try await write(announcing: .accessKeys) { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT account, status FROM access_keys WHERE id = ?", arguments: [id]) else {
                return false
            }
            let account: String = row["account"]
            let current: String = row["status"]
            if status == .active, current != "active" {
                let active = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM access_keys WHERE account = ? AND status = 'active'", arguments: [account]) ?? 0
                if active >= Self.maximumActiveKeys {
                    throw AccessStoreError.tooManyActiveKeys(account: account, limit: Self.maximumActiveKeys)
                }
            }
            try db.execute(sql: "UPDATE access_keys SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
            return true
        }
    }

    public func deleteKey(_ id: String) async throws -> Bool {
        try await write(announcing: .accessKeys) { db in
            try db.execute(sql: "DELETE FROM access_keys WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func touchKey(_ id: String, at time: Date) async throws {
        try await dbWriter.write { db in
            try db.execute(sql: "UPDATE access_keys SET last_used_at = ? WHERE id = ?", arguments: [time.catalogMilliseconds, id])
        }
    }

    private static func key(_ row: Row) -> AccessKeyRecord {
        let hash: Data = row["secret_hash"]
        let status: String = row["status"]
        let lastUsed: Int64? = row["last_used_at"]
        return AccessKeyRecord(
            id: row["id"], account: row["account"], secretHash: Array(hash), status: AccessKeyRecord.Status(rawValue: status) ?? .disabled,
            createdAt: Date(catalogMilliseconds: row["created_at"]), lastUsedAt: lastUsed.map(Date.init(catalogMilliseconds:)))
    }

    // MARK: grants

    public func setGrant(_ grant: Grant) async throws {
        try await write(announcing: .grants) { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE name = ?", arguments: [grant.account]) != nil else {
                throw AccessStoreError.notFound("account \(grant.account)")
            }
            try db.execute(
                sql: """
                    INSERT INTO grants (account, namespace, role) VALUES (?, ?, ?)
                    ON CONFLICT (account, namespace) DO UPDATE SET role = excluded.role
                    """,
                arguments: [grant.account, grant.namespace, grant.role.rawValue])
        }
    }

    public func removeGrant(account: String, namespace: String) async throws -> Bool {
        try await write(announcing: .grants) { db in
            try db.execute(sql: "DELETE FROM grants WHERE account = ? AND namespace = ?", arguments: [account, namespace])
            return db.changesCount > 0
        }
    }

    public func grants(of account: String) async throws -> [Grant] {
        try await dbWriter.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM grants WHERE account = ? ORDER BY namespace", arguments: [account]).compactMap { row in
                Role(rawValue: row["role"]).map { Grant(account: row["account"], namespace: row["namespace"], role: $0) }
            }
        }
    }

    // MARK: namespaces

    public func createNamespace(_ namespace: NamespaceRecord) async throws {
        try await write(announcing: .namespaces) { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM namespaces WHERE name = ?", arguments: [namespace.name]) != nil {
                throw AccessStoreError.duplicate("namespace \(namespace.name)")
            }
            try db.execute(
                sql: "INSERT INTO namespaces (name, is_public, created_at) VALUES (?, ?, ?)",
                arguments: [namespace.name, namespace.isPublic, namespace.createdAt.catalogMilliseconds])
        }
    }

    public func namespace(named name: String) async throws -> NamespaceRecord? {
        try await dbWriter.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM namespaces WHERE name = ?", arguments: [name]).map(Self.namespace)
        }
    }

    public func namespaces() async throws -> [NamespaceRecord] {
        try await dbWriter.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM namespaces ORDER BY name").map(Self.namespace)
        }
    }

    public func setNamespacePublic(_ name: String, _ isPublic: Bool) async throws -> Bool {
        try await write(announcing: .namespaces) { db in
            try db.execute(sql: "UPDATE namespaces SET is_public = ? WHERE name = ?", arguments: [isPublic, name])
            return db.changesCount > 0
        }
    }

    public func deleteNamespace(_ name: String) async throws -> Bool {
        try await write(announcing: .namespaces, .grants) { db in
            try db.execute(sql: "DELETE FROM grants WHERE namespace = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM namespaces WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    private static func namespace(_ row: Row) -> NamespaceRecord {
        NamespaceRecord(name: row["name"], isPublic: row["is_public"], createdAt: Date(catalogMilliseconds: row["created_at"]))
    }

    // MARK: descriptions

    public func updateDescription(of repository: String, short: String?, full: String?, at time: Date) async throws
        -> RepositoryDescription
    {
        try await dbWriter.write { db in
            try db.execute(
                sql: """
                    INSERT INTO repository_descriptions (repository, short, full, updated_at) VALUES (?, COALESCE(?, ''), COALESCE(?, ''), ?)
                    ON CONFLICT (repository) DO UPDATE SET
                        short = COALESCE(?, short), full = COALESCE(?, full), updated_at = excluded.updated_at
                    """,
                arguments: [repository, short, full, time.catalogMilliseconds, short, full])
            let row = try Row.fetchOne(db, sql: "SELECT * FROM repository_descriptions WHERE repository = ?", arguments: [repository])!
            return Self.description(row)
        }
    }

    private static func description(_ row: Row) -> RepositoryDescription {
        RepositoryDescription(
            repository: row["repository"], short: row["short"], full: row["full"], updatedAt: Date(catalogMilliseconds: row["updated_at"]))
    }

    public func description(of repository: String) async throws -> RepositoryDescription? {
        try await dbWriter.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM repository_descriptions WHERE repository = ?", arguments: [repository]).map(Self.description)
        }
    }

    // MARK: audit

    public func appendAudit(_ event: AuditEvent) async throws {
        try await dbWriter.write { db in
            try db.execute(
                sql: """
                    INSERT INTO audit_events (time, account, access_key_id, source_address, action, namespace, repository, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    event.time.catalogMilliseconds, event.account, event.accessKeyID, event.sourceAddress, event.action,
                    event.namespace, event.repository, event.detail,
                ])
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        var conditions: [String] = []
        var values: [any DatabaseValueConvertible] = []
        if let account = query.account {
            conditions.append("account = ?")
            values.append(account)
        }
        if let namespace = query.namespace {
            conditions.append("namespace = ?")
            values.append(namespace)
        }
        if let action = query.action {
            conditions.append("action = ?")
            values.append(action)
        }
        if let since = query.since {
            conditions.append("time >= ?")
            values.append(since.catalogMilliseconds)
        }
        if let until = query.until {
            conditions.append("time < ?")
            values.append(until.catalogMilliseconds)
        }
        values.append(max(1, min(query.limit, 10_000)))
        let sql = "SELECT * FROM audit_events" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY time DESC, id DESC LIMIT ?"
        let arguments = StatementArguments(values.map { Optional($0) })
        return try await dbWriter.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                var event = AuditEvent(
                    time: Date(catalogMilliseconds: row["time"]), account: row["account"], accessKeyID: row["access_key_id"],
                    sourceAddress: row["source_address"], action: row["action"], namespace: row["namespace"],
                    repository: row["repository"], detail: row["detail"])
                event.id = row["id"]
                return event
            }
        }
    }
}
