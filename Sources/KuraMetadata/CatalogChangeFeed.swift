public import KuraCore
import Synchronization

/// A kind of catalog state that nodes cache: a change to any row of it drops every cached
/// copy of that kind (writes to these tables are rare, so no finer grain is needed).
public enum CatalogChange: String, Sendable, CaseIterable {
    case accounts
    /// Keys created, deleted, enabled or disabled (not a key's "last used" time).
    case accessKeys = "access_keys"
    case grants
    case namespaces
    case webhooks
    case scanPolicies = "scan_policies"
}

/// What a subscriber of the ``CatalogChangeFeed`` hears.
public enum CatalogFeedEvent: Sendable, Equatable {
    /// Every change from now on is announced; changes before may have been missed.
    case live
    /// Changes may go unannounced until the next `.live`: cached copies cannot be trusted.
    case interrupted
    case changed(CatalogChange)
    /// The tags or manifests of a repository changed (committed): a tag pushed, moved or
    /// deleted, a manifest stored or deleted, the repository deleted. `nil`: of any
    /// repository (a statement that touched many, a table emptied).
    case manifestsChanged(RepositoryName?)
}

/// The catalog's announcements of changes to what nodes cache (accounts, keys, grants,
/// namespaces, webhooks, scan policies, and each repository's tags and manifests), so that a
/// cache on any node drops its copy.
///
/// SQLite (one node) announces in-process, after each write's commit, before the write
/// returns. PostgreSQL announces with `pg_notify` from triggers, in the writing
/// transaction (so at its commit, whichever node or process wrote), and each node hears them
/// on a LISTEN connection of its own; while that connection is down the feed is not
/// `live`, and caches must not serve what they hold.
public final class CatalogChangeFeed: Sendable {
    private struct State {
        var live: Bool
        var subscribers: [UInt64: @Sendable (CatalogFeedEvent) -> Void] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// A feed that is `live` from the start (an in-process one) or once a listener says so.
    public init(live: Bool) {
        state = Mutex(State(live: live))
    }

    /// Whether every change is announced now.
    public var isLive: Bool { state.withLock { $0.live } }

    /// Calls `handler` with the feed's state now (`.live` or `.interrupted`), then with every
    /// event, in order, until the subscription goes away. The handler runs under the feed's
    /// lock: it must be quick and must not call the feed.
    public func subscribe(_ handler: @escaping @Sendable (CatalogFeedEvent) -> Void) -> CatalogFeedSubscription {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            state.subscribers[state.nextID] = handler
            handler(state.live ? .live : .interrupted)
            return state.nextID
        }
        return CatalogFeedSubscription { [weak self] in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
    }

    /// Tells every subscriber that `change` happened (committed).
    package func announce(_ change: CatalogChange) {
        deliver(.changed(change))
    }

    /// Tells every subscriber that the tags or manifests of `repository` (`nil`: of any
    /// repository) changed (committed).
    package func announceManifestsChanged(in repository: RepositoryName?) {
        deliver(.manifestsChanged(repository))
    }

    private func deliver(_ event: CatalogFeedEvent) {
        state.withLock { state in
            for handler in state.subscribers.values { handler(event) }
        }
    }

    /// Marks the feed live (changes are announced from now on) or interrupted.
    package func setLive(_ live: Bool) {
        state.withLock { state in
            guard state.live != live else { return }
            state.live = live
            for handler in state.subscribers.values { handler(live ? .live : .interrupted) }
        }
    }
}

/// Keeps a ``CatalogChangeFeed`` subscription; dropping it (or ``cancel()``) ends the calls.
public final class CatalogFeedSubscription: Sendable {
    private let onCancel: Mutex<(@Sendable () -> Void)?>

    init(onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = Mutex(onCancel)
    }

    public func cancel() {
        let action = onCancel.withLock { action -> (@Sendable () -> Void)? in
            defer { action = nil }
            return action
        }
        action?()
    }

    deinit { cancel() }
}
