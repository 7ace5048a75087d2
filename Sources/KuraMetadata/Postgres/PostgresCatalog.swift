import Foundation
public import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The scale-out catalog: every store of the ``Catalog`` in one PostgreSQL database, shared
/// by any number of Kura nodes, through postgres-nio's connection pool.
///
/// Opening it applies the versioned migrations of ``PostgresSchema`` under an advisory
/// lock, so nodes starting together migrate once. Write methods are one transaction each
/// (retried on a deadlock or serialisation failure); reads are single statements.
public final class PostgresCatalog: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let configuration: PostgresClient.Configuration
    private let runner: Task<Void, Never>
    /// The schema a scratch copy lives in, dropped with it (see `scratchCopy`).
    private let scratchSchema: String?
    private let parent: PostgresCatalog?
    /// Changes to what nodes cache, heard from every node (see ``PostgresChangeListener``);
    /// live once this catalog listens.
    public let changes = CatalogChangeFeed(live: false)
    private let listener = Mutex<PostgresChangeListener?>(nil)

    /// What to connect to: parsed from a `postgres://user:password@host:port/database` URL.
    public struct Connection: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        /// `sslmode` of the URL: `disable` (the default), `prefer` or `require`.
        public var tls: String

        public init(url: String) throws {
            guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
                let host = components.host, !host.isEmpty
            else {
                throw PostgresCatalogError.invalidURL("expected postgres://user:password@host:port/database, got \(Self.redacted(url))")
            }
            self.host = host
            port = components.port ?? 5432
            user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
            password = components.password.flatMap { $0.removingPercentEncoding }
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            database = path.isEmpty ? user : path
            tls = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
            guard ["disable", "prefer", "require"].contains(tls) else {
                throw PostgresCatalogError.invalidURL("sslmode must be disable, prefer or require, not \(tls)")
            }
        }

        /// The URL without its password, for logs and errors.
        public static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? "postgres://…"
        }
    }

    /// Connects (a pool of at most `poolSize` connections) and migrates the database;
    /// gives up when the server does not answer within `startTimeout` (the pool would keep
    /// retrying an unreachable server). The migrations themselves are not timed: on a busy
    /// server, or behind another node's migration lock, they may take longer.
    public static func open(
        url: String, poolSize: Int = 16, startTimeout: Duration = .seconds(20), logger: Logger
    ) async throws -> PostgresCatalog {
        let connection = try Connection(url: url)
        let catalog = PostgresCatalog(configuration: try configuration(connection, poolSize: poolSize, searchPath: nil), logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await catalog.rows("SELECT 1") }
                group.addTask {
                    try await Task.sleep(for: startTimeout)
                    throw PostgresCatalogError.unreachable("no answer within \(startTimeout)")
                }
                try await group.next()
                group.cancelAll()
            }
            try await catalog.migrate()
            let listening = try PostgresChangeListener.configuration(connection)
            catalog.listener.withLock { $0 = PostgresChangeListener(configuration: listening, feed: catalog.changes, logger: logger) }
        } catch {
            catalog.close()
            throw PostgresCatalogError.unreachable("\(Connection.redacted(url)): \(String(reflecting: error))")
        }
        return catalog
    }

    static func configuration(_ connection: Connection, poolSize: Int, searchPath: String?) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch connection.tls {
        case "require": tls = .require(.makeClientConfiguration())
        case "prefer": tls = .prefer(.makeClientConfiguration())
        default: tls = .disable
        }
        var configuration = PostgresClient.Configuration(
            host: connection.host, port: connection.port, username: connection.user, password: connection.password,
            database: connection.database, tls: tls)
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.connectTimeout = .seconds(10)
        if let searchPath { configuration.options.additionalStartupParameters = [("search_path", searchPath)] }
        return configuration
    }

    init(configuration: PostgresClient.Configuration, logger: Logger, scratchSchema: String? = nil, parent: PostgresCatalog? = nil) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.scratchSchema = scratchSchema
        self.parent = parent
        runner = Task { await client.run() }
    }

    deinit {
        runner.cancel()
        listener.withLock { $0?.stop() }
        if let scratchSchema, let parent {
            Task { try? await parent.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(scratchSchema) CASCADE")) }
        }
    }

    /// This catalog's connection settings over another schema (a scratch copy's), with
    /// `public` behind it for the trigger functions.
    func scratchConfiguration(_ schema: String) -> PostgresClient.Configuration {
        var scratch = configuration
        scratch.options.maximumConnections = 2
        scratch.options.additionalStartupParameters = [("search_path", "\(schema), public")]
        return scratch
    }

    /// Closes the pool (in-flight queries fail).
    public func close() {
        listener.withLock { $0?.stop() }
        runner.cancel()
    }

    // MARK: migrations

    /// Applies the migrations the database lacks, in order, each in its own transaction,
    /// holding a session advisory lock so that concurrent nodes apply each one once.
    func migrate() async throws {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(PostgresSchema.migrationLockKey))", logger: logger)
            do {
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS kura_schema_migrations (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                    """, logger: logger)
                var applied = Set<Int>()
                for row in try await connection.query("SELECT version FROM kura_schema_migrations", logger: logger).collect() {
                    applied.insert(try row.decode(Int.self))
                }
                for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        for statement in PostgresSchema.statements(migration.sql) {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.query(
                            "INSERT INTO kura_schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(Date().catalogMilliseconds))",
                            logger: logger)
                        try await connection.query("COMMIT", logger: logger)
                        logger.info("catalog migrated", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                }
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.migrationLockKey))", logger: logger)
                throw error
            }
            try await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.migrationLockKey))", logger: logger)
        }
    }

    /// The migration versions applied, in order.
    public func appliedMigrations() async throws -> [Int] {
        try await rows("SELECT version FROM kura_schema_migrations ORDER BY version").decoded { try $0.decode(Int.self) }
    }

    // MARK: running statements

    /// The rows of one statement.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await client.query(query, logger: logger).collect()
    }

    /// Runs `body` in one transaction on one connection: committed when it returns, rolled
    /// back when it throws (its error passes through unchanged). A deadlock or
    /// serialisation failure — PostgreSQL's way of breaking a tie between two writers — is
    /// retried a few times.
    func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await client.withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        let result = try await body(connection)
                        try await connection.query("COMMIT", logger: logger)
                        return result
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                }
            } catch let error as PSQLError where attempt < 5 && Self.isRetryable(error) {
                attempt += 1
            }
        }
    }

    private static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

/// Why the PostgreSQL catalog could not be used.
public enum PostgresCatalogError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String)
    case unreachable(String)

    public var description: String {
        switch self {
        case .invalidURL(let detail): "catalog.url: \(detail)"
        case .unreachable(let detail): "the PostgreSQL catalog is not usable: \(detail)"
        }
    }
}

extension PostgresConnection {
    /// The rows of one statement inside a transaction.
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}

extension Array where Element == PostgresRow {
    // Decoding goes through these instead of `map` at the call: Swift 6.3.1's optimizer,
    // inlining `map` with a throwing closure into an async catalog method, crashed LLVM's
    // coroutine splitting in release builds (signal 11, "While splitting coroutine").

    /// Every row, decoded.
    @inline(never)
    func decoded<T>(_ transform: (PostgresRow) throws -> T) throws -> [T] { try map(transform) }

    /// The rows `transform` decodes to a value; the others are skipped.
    @inline(never)
    func decodedCompact<T>(_ transform: (PostgresRow) throws -> T?) throws -> [T] { try compactMap(transform) }

    /// The first row, decoded, or `nil` when there is none.
    @inline(never)
    func firstDecoded<T>(_ transform: (PostgresRow) throws -> T) throws -> T? { try first.map(transform) }
}
