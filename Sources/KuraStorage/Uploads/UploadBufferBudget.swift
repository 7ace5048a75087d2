import Synchronization

/// The memory that the part buffers of a store's uploads may hold between them.
///
/// A writer alone gets its backend's preferred part (fewer, larger writes cost the least CPU
/// per byte). When many write at once they share the budget: each new writer halves its part
/// until its share fits, down to ``floor``, so five or more concurrent uploads to the
/// filesystem hold 128 KiB parts instead of 512 KiB (a thousand hold 128 MiB, not half a
/// GiB). On the filesystem a part is the connection's reads themselves, gathered without a
/// copy (``PartWriter``), and a read at least a part long is written whole: the share bounds
/// how many smaller reads wait for their write. A backend whose minimum part is above the
/// floor (S3: 5 MiB) keeps its preferred part whatever the budget: there the part size is a
/// protocol matter (and decides which bytes of a chunked upload wait as a tail), not a
/// buffer to trim.
///
/// A share is fixed when the writer starts (one request's body); a writer that finishes
/// hands its share back when its ``Lease`` is freed.
final class UploadBufferBudget: Sendable {
    /// Bytes the part buffers of all writers together should stay within.
    let total: Int
    /// The smallest part the budget hands out.
    let floor: Int
    private let writers = Atomic<Int>(0)

    init(total: Int = 1 << 20, floor: Int = 128 << 10) {
        self.total = max(total, 1)
        self.floor = max(floor, 1)
    }

    /// Writers holding a share now.
    var activeWriters: Int { writers.load(ordering: .relaxed) }

    /// A share for one more writer: `preferred` halved while the share of the budget per
    /// writer is smaller, not below ``floor``; `preferred` as it is when `minimum` is above
    /// the floor. A writer alone always gets `preferred`.
    func lease(preferred: Int, minimum: Int) -> Lease {
        let count = writers.add(1, ordering: .relaxed).newValue
        var size = max(preferred, minimum, 1)
        guard minimum <= floor else { return Lease(partSize: size, budget: self) }
        let share = max(total, size) / count
        while size > share, size / 2 >= floor { size /= 2 }
        return Lease(partSize: size, budget: self)
    }

    fileprivate func release() {
        writers.subtract(1, ordering: .relaxed)
    }

    /// One writer's share; handed back when freed.
    final class Lease: Sendable {
        let partSize: Int
        private let budget: UploadBufferBudget

        fileprivate init(partSize: Int, budget: UploadBufferBudget) {
            self.partSize = partSize
            self.budget = budget
        }

        deinit { budget.release() }
    }
}
