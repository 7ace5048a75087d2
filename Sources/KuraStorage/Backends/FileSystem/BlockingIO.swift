import NIOPosix

/// Runs blocking system calls off the Swift concurrency pool and off NIO's event loops.
///
/// Kura's own pool, not NIO's shared one: that one has a thread per core, and a disk spends
/// most of an `fdatasync` waiting, so with 32 uploads committing at once two threads would
/// queue every write behind someone's sync. Sixteen threads keep the disk's queue full
/// while costing only idle stacks.
enum BlockingIO {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    static func run<T: Sendable>(_ body: @Sendable @escaping () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
