#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Cleans up after a test process that dies without running its atexit handlers (a crash).
enum ProcessWatchdog {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts a shell that runs `command` once this process is gone. It waits for
    /// end-of-file on a pipe whose only write end this process holds: the kernel closes it
    /// when the process dies, even while it lingers as a zombie (a `kill -0` loop would not
    /// notice a zombie). The write end is close-on-exec, so no other child inherits it, and
    /// the watchdog's output goes to /dev/null: it must never hold the test's stdout open,
    /// or `swift test` would wait for it forever. The write end is deliberately never
    /// closed: it lives as long as this process. Returns the watchdog's pid.
    static func start(running command: String) throws -> pid_t {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Failure(description: "pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let watchdog: ChildProcess
        do {
            watchdog = try ChildProcess.spawn("/bin/sh", ["-c", "read _; \(command)"], standardInput: .fileDescriptor(fds[0]))
        } catch {
            close(fds[0])
            close(fds[1])
            throw Failure(description: "the watchdog did not start: \(error)")
        }
        close(fds[0])
        return watchdog.pid
    }
}
