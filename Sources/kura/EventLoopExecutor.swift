import NIOCore

/// Runs the jobs of tasks that prefer it on one event loop. A benchmark connection's task
/// runs on its own channel's loop, so writing a request and resuming on its answer need no
/// hand-over between Swift's global pool and the loop: the client then spends its CPU on
/// requests, not on waking threads, and leaves the server the cores it shares with it.
final class EventLoopExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
