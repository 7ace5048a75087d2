import Dispatch

/// Runs background scans on threads of their own (a concurrent dispatch queue at utility
/// priority; `scan.concurrency` bounds how many) instead of the shared cooperative pool. Decompressing and parsing a layer is
/// long CPU work between suspension points; on the pool's two threads (one per core here) a
/// few scans at once held up every request handler until they yielded. Here they only take
/// the CPU the kernel gives a low-priority thread.
final class BackgroundScanExecutor: TaskExecutor {
    static let shared = BackgroundScanExecutor()

    private let queue = DispatchQueue(label: "kura.scan", qos: .utility, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
