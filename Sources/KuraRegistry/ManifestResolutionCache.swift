import KuraCore
import KuraMetadata
import Metrics
import Synchronization

/// Which manifest a tag or digest of a repository names, remembered for at most ``maxAge``,
/// so a hot tag is served without a catalog read (on PostgreSQL a round trip to another
/// process; on SQLite a hop to a database queue and back).
///
/// Correctness rests on the catalog's change feed (``CatalogChangeFeed``) and three rules:
///
/// - **Announced changes drop entries.** Every write of a repository's tags or manifests —
///   by this registry, by another node sharing the catalog, by GC or retention anywhere, by
///   `kura catalog migrate` or SQL by hand — is announced as
///   ``CatalogFeedEvent/manifestsChanged(_:)`` and drops that repository's entries. The
///   registry's own writes also ``invalidate(_:)`` before they are acknowledged, so a
///   client reads its own writes on this node at once.
/// - **A lookup raced by a change stores nothing**: it takes a ``Stamp`` before reading the
///   catalog, and a change announced meanwhile moves the repository's generation on.
/// - **No feed, no cache**: while the feed is not live (PostgreSQL's LISTEN connection
///   down) nothing is served or stored, and everything is dropped when it comes back.
///
/// What remains is the feed's latency. On SQLite the announcement precedes the write's
/// return. On PostgreSQL another node's change arrives as a notification sent at its commit:
/// between that commit and the moment this node handles the notification (about a
/// millisecond on one machine; see docs/postgres.md), a request here may still get the old
/// answer for a tag it had cached, even though the writer already acknowledged. A
/// notification lost with a connection that died unnoticed is bounded by ``maxAge``, as is a
/// change made by another process on a SQLite file (a `kura gc` from the command line).
///
/// Only what was found is kept: "not found" is asked again every time, so a tag or
/// manifest pushed through one node is found through any other at once, whatever the feed.
///
/// `kura_manifest_lookups_total{source="cache"|"catalog"}` counts the lookups answered here
/// and those that went to the catalog.
final class ManifestResolutionCache: Sendable {
    private struct Key: Hashable {
        var repository: String
        var reference: String
    }

    private struct Entry {
        var record: ManifestRecord
        var generation: UInt64
        var storedAt: Duration
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var generations: [String: UInt64] = [:]
        /// The generation of a repository not in `generations`; moves above every handed-out
        /// generation when the table is cleared.
        var epoch: UInt64 = 0
        /// Whether the feed announces every change now; nothing is served or stored otherwise.
        var live: Bool

        /// Forgets every entry and generation; the new epoch is above every generation
        /// handed out, so no earlier stamp matches again.
        mutating func clear() {
            epoch = (generations.values.max() ?? epoch) + 1
            generations.removeAll(keepingCapacity: true)
            entries.removeAll(keepingCapacity: true)
        }

        mutating func invalidate(_ repository: String, capacity: Int) {
            if generations.count >= capacity { clear() }
            generations[repository, default: epoch] += 1
        }
    }

    private final class Box: Sendable {
        let state: Mutex<State>
        init(live: Bool) { state = Mutex(State(live: live)) }
    }

    /// A stamp taken before a catalog read; storing under an outdated stamp does nothing.
    struct Stamp {
        fileprivate var generation: UInt64
        /// When the read began: an entry is aged from then (the row may have changed since).
        fileprivate var takenAt: Duration
    }

    let maxAge: Duration
    let capacity: Int
    /// Time since the cache was made, on its clock (tests inject a manual one).
    private let elapsed: @Sendable () -> Duration
    private let box: Box
    private let subscription: CatalogFeedSubscription?
    /// Made once (a lookup is on every manifest GET's path), after the server set up metrics.
    private let answered = Counter(label: "kura_manifest_lookups_total", dimensions: [("source", "cache")])
    private let missed = Counter(label: "kura_manifest_lookups_total", dimensions: [("source", "catalog")])

    /// A cache that follows `feed` (the catalog's); without one (tests of the cache itself)
    /// it hears only ``invalidate(_:)`` and ``maxAge``.
    init(
        feed: CatalogChangeFeed? = nil, maxAge: Duration = .seconds(1), capacity: Int = 10_000,
        clock: some Clock<Duration> = ContinuousClock()
    ) {
        self.maxAge = maxAge
        self.capacity = capacity
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
        let box = Box(live: feed == nil)
        self.box = box
        // Runs under the feed's lock; takes the cache's (never the other way round).
        subscription = feed?.subscribe { event in
            box.state.withLock { state in
                switch event {
                case .live, .interrupted:
                    state.live = event == .live
                    state.clear()
                case .manifestsChanged(let repository?):
                    state.invalidate(repository.value, capacity: capacity)
                case .manifestsChanged(nil):
                    state.clear()
                case .changed:
                    break
                }
            }
        }
    }

    func lookup(_ reference: Reference, in repository: RepositoryName) -> ManifestRecord? {
        let key = Key(repository: repository.value, reference: reference.description)
        let now = elapsed()
        let found = box.state.withLock { state -> ManifestRecord? in
            guard state.live, maxAge > .zero, let entry = state.entries[key] else { return nil }
            guard entry.generation == Self.generation(of: key.repository, in: state), now - entry.storedAt < maxAge else {
                state.entries[key] = nil
                return nil
            }
            return entry.record
        }
        (found == nil ? missed : answered).increment()
        return found
    }

    /// Taken before reading the catalog, handed back to ``store(_:for:in:stamp:)``.
    func stamp(_ repository: RepositoryName) -> Stamp {
        let now = elapsed()
        return box.state.withLock { Stamp(generation: Self.generation(of: repository.value, in: $0), takenAt: now) }
    }

    func store(_ record: ManifestRecord, for reference: Reference, in repository: RepositoryName, stamp: Stamp) {
        let key = Key(repository: repository.value, reference: reference.description)
        box.state.withLock { state in
            guard state.live, maxAge > .zero, stamp.generation == Self.generation(of: key.repository, in: state) else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(record: record, generation: stamp.generation, storedAt: stamp.takenAt)
        }
    }

    /// Forgets everything known of `repository`, and makes lookups in flight unable to store.
    func invalidate(_ repository: RepositoryName) {
        box.state.withLock { $0.invalidate(repository.value, capacity: capacity) }
    }

    private static func generation(of repository: String, in state: State) -> UInt64 {
        state.generations[repository] ?? state.epoch
    }
}
