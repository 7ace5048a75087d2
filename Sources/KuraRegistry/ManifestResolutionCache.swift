import KuraCore
import KuraMetadata
import Synchronization

/// Which manifest a tag or digest of a repository names, remembered for at most ``maxAge``,
/// so a hot tag is served without a catalog read (on SQLite each read is a hop to a database
/// queue and back: a third of a manifest GET's thread switches).
///
/// Correctness rests on two rules. This registry's own writes (a push, a delete, retention,
/// GC, a repository deleted) ``invalidate(_:)`` the repository before they are
/// acknowledged, so a client reads its own writes at once; and a lookup that raced such a
/// write cannot store what it read (the repository's generation moved on). Changes made
/// outside this process (a `kura gc` run from the command line on the same data folder) are
/// seen within ``maxAge``. A catalog shared by several nodes gets no cache (its changes
/// would need every node told), so a multi-node registry reads the catalog every time.
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
    }

    /// A stamp taken before a catalog read; storing under an outdated stamp does nothing.
    struct Stamp {
        fileprivate var generation: UInt64
    }

    let maxAge: Duration
    let capacity: Int
    /// Time since the cache was made, on its clock (tests inject a manual one).
    private let elapsed: @Sendable () -> Duration
    private let state = Mutex(State())

    init(maxAge: Duration = .seconds(1), capacity: Int = 10_000, clock: some Clock<Duration> = ContinuousClock()) {
        self.maxAge = maxAge
        self.capacity = capacity
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
    }

    func lookup(_ reference: Reference, in repository: RepositoryName) -> ManifestRecord? {
        let key = Key(repository: repository.value, reference: reference.description)
        let now = elapsed()
        return state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            guard entry.generation == Self.generation(of: key.repository, in: state), now - entry.storedAt < maxAge else {
                state.entries[key] = nil
                return nil
            }
            return entry.record
        }
    }

    /// Taken before reading the catalog, handed back to ``store(_:for:in:stamp:)``.
    func stamp(_ repository: RepositoryName) -> Stamp {
        state.withLock { Stamp(generation: Self.generation(of: repository.value, in: $0)) }
    }

    func store(_ record: ManifestRecord, for reference: Reference, in repository: RepositoryName, stamp: Stamp) {
        let key = Key(repository: repository.value, reference: reference.description)
        let now = elapsed()
        state.withLock { state in
            guard stamp.generation == Self.generation(of: key.repository, in: state) else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(record: record, generation: stamp.generation, storedAt: now)
        }
    }

    /// Forgets everything known of `repository`, and makes lookups in flight unable to store.
    func invalidate(_ repository: RepositoryName) {
        state.withLock { state in
            if state.generations.count >= capacity {
                // Forget every repository's generation at once; the new epoch is above every
                // generation handed out, so no earlier stamp matches again.
                state.epoch = (state.generations.values.max() ?? state.epoch) + 1
                state.generations.removeAll(keepingCapacity: true)
                state.entries.removeAll(keepingCapacity: true)
            }
            state.generations[repository.value, default: state.epoch] += 1
        }
    }

    private static func generation(of repository: String, in state: State) -> UInt64 {
        state.generations[repository] ?? state.epoch
    }
}
