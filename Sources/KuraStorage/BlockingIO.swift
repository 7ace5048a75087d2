import NIOPosix

/// Runs blocking system calls off the Swift concurrency pool and off NIO's event loops,
/// on NIO's shared blocking-I/O thread pool.
enum BlockingIO {
    static func run<T: Sendable>(_ body: @Sendable @escaping () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
