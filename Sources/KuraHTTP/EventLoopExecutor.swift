package import NIOCore

/// Runs the jobs of tasks that prefer it on one event loop, so that a task writing to a
/// channel, or resuming on what the channel read, needs no hand-over between Swift's global
/// pool and the loop.
///
/// Used where a task does little but move buffers through one channel: a blob GET's body
/// (``ResponseBody/streaming(_:writingOn:)``) and a benchmark connection (`kura bench`). Work
/// that computes — hashing, JSON, a handler's rules — stays on the global pool: on the loop it
/// would delay every other connection the loop serves.
package final class EventLoopExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    package init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
