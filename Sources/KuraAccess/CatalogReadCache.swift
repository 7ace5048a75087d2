import KuraMetadata
import Synchronization

/// A node's copies of catalog rows that every request reads (keys, accounts, namespaces),
/// kept only while they cannot be stale for long:
///
/// - each copy lives at most `lifetime` (1 s on a server): the bound on staleness when a
///   change goes unannounced — made by another process on a SQLite file, or a notification
///   lost with the LISTEN connection before the feed noticed;
/// - every copy is dropped when the feed announces a change of a kind in `dropOn`;
/// - nothing is served or kept while the feed is not live (PostgreSQL's LISTEN connection
///   down), and everything is dropped when it comes back;
/// - a load that an announcement overtook is not kept (it may have read the old row).
///
/// Only what was found is kept (`load` returning `nil` is asked again next time): a key or
/// namespace created on another node works here at once.
final class CatalogReadCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var loadedAt: Duration
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Bumped by every feed event: a load that began under another generation is not kept.
        var generation: UInt64 = 0
        var live = false
    }

    private final class Box: Sendable {
        let state = Mutex(State())
    }

    private let box = Box()
    private let lifetime: Duration
    /// Time since the cache was made, on the injected clock.
    private let elapsed: @Sendable () -> Duration
    private let subscription: CatalogFeedSubscription

    init(feed: CatalogChangeFeed, dropOn kinds: Set<CatalogChange>, lifetime: Duration, clock: some Clock<Duration>) {
        self.lifetime = lifetime
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
        subscription = feed.subscribe { [box] event in
            box.state.withLock { state in
                switch event {
                case .live, .interrupted:
                    state.live = event == .live
                    state.entries.removeAll()
                    state.generation &+= 1
                case .changed(let change) where kinds.contains(change):
                    state.entries.removeAll()
                    state.generation &+= 1
                case .changed, .manifestsChanged:
                    break
                }
            }
        }
    }

    /// The cached value for `key`, or what `load` reads (kept when found and still fresh).
    func value(_ key: Key, load: () async throws -> Value?) async throws -> Value? {
        let now = elapsed()
        let (hit, generation) = box.state.withLock { state -> (Value?, UInt64?) in
            guard state.live else { return (nil, nil) }
            if let entry = state.entries[key], now - entry.loadedAt < lifetime { return (entry.value, nil) }
            return (nil, state.generation)
        }
        if let hit { return hit }
        let value = try await load()
        if let value, let generation {
            // Aged from when the load began: the row may have changed since then.
            box.state.withLock { state in
                if state.live, state.generation == generation { state.entries[key] = Entry(value: value, loadedAt: now) }
            }
        }
        return value
    }

    /// Changes the cached value of `key`, if one is cached (a write this node made that
    /// the feed does not announce, such as a key's "last used" time).
    func update(_ key: Key, _ change: (inout Value) -> Void) {
        box.state.withLock { state in
            if var entry = state.entries[key] {
                change(&entry.value)
                state.entries[key] = entry
            }
        }
    }

    /// How many values are cached (for tests).
    var count: Int { box.state.withLock { $0.entries.count } }
}
