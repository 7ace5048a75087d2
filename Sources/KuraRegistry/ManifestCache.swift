import KuraCore
import NIOCore
import Synchronization

/// A byte-bounded LRU cache of manifest bytes by digest. Manifests are content-addressed and
/// never change, so a cached copy can never be stale; only deletion matters, and a deleted
/// manifest is no longer found in the catalog, which is consulted first.
final class ManifestCache: Sendable {
    private struct State {
        var entries: [Digest: (bytes: ByteBuffer, tick: UInt64)] = [:]
        var bytes = 0
        var tick: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    func get(_ digest: Digest) -> ByteBuffer? {
        state.withLock { state in
            guard let entry = state.entries[digest] else { return nil }
            state.tick += 1
            state.entries[digest] = (entry.bytes, state.tick)
            return entry.bytes
        }
    }

    func put(_ digest: Digest, _ bytes: ByteBuffer) {
        guard bytes.readableBytes <= capacity / 8 else { return }
        state.withLock { state in
            if state.entries[digest] != nil { return }
            state.tick += 1
            state.entries[digest] = (bytes, state.tick)
            state.bytes += bytes.readableBytes
            while state.bytes > capacity, let oldest = state.entries.min(by: { $0.value.tick < $1.value.tick }) {
                state.entries[oldest.key] = nil
                state.bytes -= oldest.value.bytes.readableBytes
            }
        }
    }
}
