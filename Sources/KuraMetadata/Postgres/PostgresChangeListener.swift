import Foundation
import KuraCore
import Logging
import NIOSSL
import PostgresNIO

/// Hears the catalog's change notifications (see ``PostgresSchema/changeNotifications``) on
/// a connection of its own, outside the pool, and passes them to a ``CatalogChangeFeed``.
///
/// The feed is live only while the LISTEN holds: when the connection fails it says
/// `interrupted` (caches stop serving), and the listener connects again with backoff
/// (100 ms doubling to 5 s); once listening again it says `live` (caches start empty).
final class PostgresChangeListener: Sendable {
    private let task: Task<Void, Never>

    init(configuration: PostgresConnection.Configuration, feed: CatalogChangeFeed, logger: Logger) {
        task = Task { await Self.listen(configuration: configuration, feed: feed, logger: logger) }
    }

    func stop() { task.cancel() }

    /// The `application_name` of every node's LISTEN connection.
    static let applicationName = "kura-catalog-listener"

    deinit { task.cancel() }

    /// A connection's settings for the catalog's URL (the pool's, minus the pool).
    static func configuration(_ connection: PostgresCatalog.Connection) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch connection.tls {
        case "require": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case "prefer": tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: tls = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: connection.host, port: connection.port, username: connection.user, password: connection.password,
            database: connection.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        // Names the connection in `pg_stat_activity` (for operators, and tests that cut it).
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    private static func listen(configuration: PostgresConnection.Configuration, feed: CatalogChangeFeed, logger: Logger) async {
        let backoff = JitteredBackoff(base: .milliseconds(100), maximum: .seconds(5))
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                do {
                    // Not postgres-nio's closure listener (`addListener`), which would announce
                    // from the event loop a task hop sooner: 1.33 traps ("Notification closure
                    // had not been used") when one is released as its connection closes.
                    try await connection.listen(on: PostgresSchema.changeChannel) { notifications in
                        feed.setLive(true)
                        failures = 0
                        for try await notification in notifications {
                            Self.announce(notification.payload, on: feed, logger: logger)
                        }
                    }
                } catch {
                    if !Task.isCancelled {
                        logger.warning("catalog change notifications interrupted", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
                feed.setLive(false)
                try? await connection.close()
            } catch {
                feed.setLive(false)
                logger.warning("cannot listen for catalog changes", metadata: ["error": "\(String(reflecting: error))"])
            }
            failures += 1
            try? await Task.sleep(for: backoff.delay(after: failures))
        }
        feed.setLive(false)
    }

    /// Passes on what a notification's payload names (see ``PostgresSchema/changeNotifications``
    /// and ``PostgresSchema/manifestNotifications``): a kind (`accounts`…), `manifests:<repository>`
    /// or `manifests` (any repository).
    static func announce(_ payload: String, on feed: CatalogChangeFeed, logger: Logger) {
        if let change = CatalogChange(rawValue: payload) {
            feed.announce(change)
        } else if payload == PostgresSchema.anyManifestsPayload {
            feed.announceManifestsChanged(in: nil)
        } else if payload.hasPrefix(PostgresSchema.manifestsPayloadPrefix) {
            // A name Kura would refuse (written by hand): drop every repository's copies.
            let name = payload.dropFirst(PostgresSchema.manifestsPayloadPrefix.count)
            feed.announceManifestsChanged(in: try? RepositoryName(parsing: name))
        } else {
            logger.warning("unknown catalog change notification", metadata: ["payload": "\(payload)"])
        }
    }
}

extension PostgresCatalog {
    /// Tells this node's caches of a change it just made (or tried), without waiting for
    /// the notification to come back from the server: the node that writes never serves
    /// the old state afterwards. Other nodes hear it through LISTEN, a moment later.
    func announceLocally(_ changes: CatalogChange...) {
        for change in changes { self.changes.announce(change) }
    }

    /// Tells this node's caches that the tags or manifests of `repository` changed (or may
    /// have: called after the write whether it committed or not), as ``announceLocally(_:)``.
    func announceManifestsLocally(in repository: RepositoryName) {
        changes.announceManifestsChanged(in: repository)
    }
}
