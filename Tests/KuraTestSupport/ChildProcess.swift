#if canImport(Glibc)
import Glibc
#endif
import CKuraSpawn
import Foundation
import Synchronization

/// A program started by the tests, with `posix_spawn` — not Foundation's `Process`.
///
/// `Process.run()` in swift-corelibs-foundation (issue 5472, unfixed in Swift 6.3.1) reads
/// past the end of a buffer while it prepares the child (it walks `/proc/self/fd` to close
/// inherited descriptors), and the whole test process died with SIGSEGV in about one full
/// run in three. This type builds everything the child gets itself:
///
/// - `argv` and `envp` are NUL-terminated C arrays that it allocates, owns and frees
///   (``CStringArray``); a string with a NUL byte in it is refused, not cut short.
/// - Standard input, output and error are set up with spawn file actions: `/dev/null`, this
///   process's own, a file, or a pipe this type reads (``Output/capture``).
/// - Every other descriptor is closed in the child (`posix_spawn_file_actions_addclosefrom_np`
///   from 3): a child, or a daemon it leaves behind, never holds a socket or pipe of the test
///   process, whichever thread opened it and whether or not it was close-on-exec.
/// - Signal dispositions are reset to their defaults and the signal mask is emptied in the
///   child, so nothing this process ignores (SIGPIPE) is ignored by the program.
/// - Optionally the child leads a new process group (``spawn(_:_:environment:directory:standardInput:standardOutput:standardError:newProcessGroup:)``),
///   so ``signalGroup(_:)`` reaches everything it started.
///
/// Waiting never blocks a Swift concurrency thread: a dedicated thread per child blocks in
/// `waitid`, and ``wait()`` resumes through a continuation when the child has exited.
/// Captured output is read by a dedicated thread per stream, so a child that writes more than
/// a pipe holds (64 KiB) never stalls.
///
/// Signals are safe against pid reuse: the waiting thread first waits *without reaping*
/// (`WNOWAIT`), and reaps under the same lock that ``signal(_:)`` takes, so a signal is only
/// ever sent to a pid that is still this child (running, or a zombie nobody has reaped).
public final class ChildProcess: Sendable {
    /// Where the child's standard input comes from.
    public enum Input: Sendable, Equatable {
        /// `/dev/null`: the child reads end-of-file at once.
        case null
        /// This process's own standard input.
        case inherit
        /// A file, opened read-only.
        case file(String)
        /// A descriptor of this process (the read end of a pipe, say), duplicated onto the
        /// child's 0. This process still owns it and closes it when it wants to.
        case fileDescriptor(Int32)
    }

    /// Where the child's standard output or standard error goes.
    public enum Output: Sendable, Equatable {
        /// `/dev/null`.
        case null
        /// This process's own.
        case inherit
        /// A file, created if missing (mode 0644); truncated first, or appended to if `append`.
        case file(String, append: Bool)
        /// A pipe that this process reads to end-of-file on a thread of its own; the bytes are
        /// in ``capturedOutput()`` / ``capturedError()``. End-of-file comes when every holder of
        /// the write end is gone: a daemon the child leaves behind with it open delays it.
        case capture
        /// Standard error only: the same open file as standard output (`2>&1`).
        case standardOutput

        /// A file, created if missing (mode 0644) and truncated first.
        public static func file(_ path: String) -> Output { .file(path, append: false) }
    }

    /// How a child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        /// It called `exit` with this status (0–255).
        case exited(Int32)
        /// A signal ended it (this number).
        case signalled(Int32)
        /// Something else in this process reaped it first (`waitpid(-1)`): the status is lost.
        case unknown

        /// The shell's convention: the exit status, or 128 + the signal number (-1 if unknown).
        public var shellStatus: Int32 {
            switch self {
            case .exited(let status): status
            case .signalled(let signal): 128 + signal
            case .unknown: -1
            }
        }

        public var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signalled(let signal): "killed by signal \(signal)"
            case .unknown: "reaped elsewhere (status unknown)"
            }
        }

        /// Decodes a `waitpid` status (the `WIFEXITED`/`WTERMSIG` macros are not imported).
        init(waitStatus status: Int32) {
            if status & 0x7f == 0 {
                self = .exited((status >> 8) & 0xff)
            } else {
                self = .signalled(status & 0x7f)
            }
        }
    }

    /// The child could not be started, or a request made no sense.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The child's process id. Meaningful while ``termination`` is nil; after that the kernel
    /// may give it to another process.
    public let pid: Int32
    /// The program, as given to ``spawn(_:_:environment:directory:standardInput:standardOutput:standardError:newProcessGroup:)``.
    public let executable: String
    /// Whether the child leads a process group of its own (whose id is ``pid``).
    public let leadsProcessGroup: Bool

    /// Serialises reaping against signalling (see the type's documentation). Holds whether
    /// the child has been reaped.
    private let reaped = Mutex(false)
    private let exit = Completion<Termination>()
    private let standardOutputBytes: Completion<[UInt8]>?
    private let standardErrorBytes: Completion<[UInt8]>?

    private init(pid: pid_t, executable: String, leadsProcessGroup: Bool, capturesOutput: Bool, capturesError: Bool) {
        self.pid = pid
        self.executable = executable
        self.leadsProcessGroup = leadsProcessGroup
        standardOutputBytes = capturesOutput ? Completion() : nil
        standardErrorBytes = capturesError ? Completion() : nil
    }

    /// Starts `executable` (a path: no `PATH` search) with `arguments` (without the program
    /// name: `argv[0]` is `executable`).
    ///
    /// - Parameters:
    ///   - environment: exactly the child's environment; nil passes this process's own.
    ///   - directory: the child's working directory; nil keeps this process's. Relative
    ///     paths of ``Input/file(_:)`` and ``Output/file(_:append:)`` are resolved before the
    ///     change, against this process's working directory.
    ///   - newProcessGroup: the child leads a new process group, which ``signalGroup(_:)``
    ///     signals as a whole.
    /// - Throws: ``Failure`` if the program cannot be started (missing, not executable, a
    ///   file that cannot be opened, a string with a NUL byte); nothing is left running then.
    public static func spawn(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, directory: String? = nil,
        standardInput: Input = .null, standardOutput: Output = .null, standardError: Output = .null,
        newProcessGroup: Bool = false
    ) throws(Failure) -> ChildProcess {
        if standardOutput == .standardOutput { throw Failure("standard output cannot go to standard output") }
        let environment = environment ?? ProcessInfo.processInfo.environment
        // Sorted so a child sees the same order every time.
        let environmentStrings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }

        // The parent's read ends and the child's write ends of the capture pipes.
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        func capturePipe() throws(Failure) -> Int32 {
            var fds: [Int32] = [-1, -1]
            guard kura_pipe_cloexec(&fds) == 0 else { throw Failure("pipe: \(String(cString: strerror(errno)))") }
            parentEnds.append(fds[0])
            childEnds.append(fds[1])
            return fds[1]
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        let pid: pid_t
        do {
            func check(_ status: Int32, _ what: String) throws(Failure) {
                guard status == 0 else { throw Failure("\(what): \(String(cString: strerror(status)))") }
            }
            switch standardInput {
            case .null: try check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "stdin")
            case .inherit: break
            case .file(let path): try check(posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0), "stdin \(path)")
            case .fileDescriptor(let fd): try check(posix_spawn_file_actions_adddup2(&actions, fd, 0), "stdin from fd \(fd)")
            }
            for (fd, output) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
                switch output {
                case .null: try check(posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0), "fd \(fd)")
                case .inherit: break
                case .file(let path, let append):
                    let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
                    try check(posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o644), "fd \(fd) to \(path)")
                case .capture: try check(posix_spawn_file_actions_adddup2(&actions, try capturePipe(), fd), "fd \(fd) to a pipe")
                case .standardOutput: try check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "stderr to stdout")
                }
            }
            // After the dup2s (which clear close-on-exec on 0–2), before the chdir.
            try check(kura_spawn_file_actions_addclosefrom(&actions, 3), "closefrom")
            if let directory { try check(kura_spawn_file_actions_addchdir(&actions, directory), "chdir \(directory)") }

            var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
            if newProcessGroup {
                flags |= Int32(POSIX_SPAWN_SETPGROUP)
                try check(posix_spawnattr_setpgroup(&attributes, 0), "setpgroup")
            }
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            try check(posix_spawnattr_setsigmask(&attributes, &noSignals), "setsigmask")
            var allSignals = sigset_t()
            sigfillset(&allSignals)
            try check(posix_spawnattr_setsigdefault(&attributes, &allSignals), "setsigdefault")
            try check(posix_spawnattr_setflags(&attributes, Int16(flags)), "setflags")

            var spawned: pid_t = 0
            let status = try CStringArray.with([executable] + arguments) { (argv) throws(Failure) in
                try CStringArray.with(environmentStrings) { envp in
                    posix_spawn(&spawned, executable, &actions, &attributes, argv, envp)
                }
            }
            // glibc reports a failed exec here too (the child is gone by then).
            try check(status, "cannot start \(executable)")
            pid = spawned
        } catch {
            for fd in parentEnds { close(fd) }
            throw error
        }

        let child = ChildProcess(
            pid: pid, executable: executable, leadsProcessGroup: newProcessGroup,
            capturesOutput: standardOutput == .capture, capturesError: standardError == .capture)
        var readEnds = parentEnds[...]
        if let bytes = child.standardOutputBytes { readToEnd(readEnds.removeFirst(), into: bytes, name: "stdout of \(pid)") }
        if let bytes = child.standardErrorBytes { readToEnd(readEnds.removeFirst(), into: bytes, name: "stderr of \(pid)") }
        child.startWaiting()
        return child
    }

    // MARK: state

    /// How the child ended, or nil while it runs (or has not been reaped yet).
    public var termination: Termination? { exit.value }

    /// Whether the child has not been seen to end yet.
    public var isRunning: Bool { exit.value == nil }

    /// Suspends until the child has ended, without blocking a thread. Not cancellable:
    /// send a signal first to make it end.
    @discardableResult
    public func wait() async -> Termination { await exit.wait() }

    /// Blocks the calling thread until the child has ended: only for synchronous code (an
    /// `atexit` handler, a `defer`) and a child that ends promptly (one just sent SIGKILL).
    @discardableResult
    public func waitBlocking() -> Termination { exit.waitBlocking() }

    /// Everything the child wrote to standard output (``Output/capture``), once the pipe
    /// reached end-of-file; empty if it was not captured.
    public func capturedOutput() async -> [UInt8] { await standardOutputBytes?.wait() ?? [] }

    /// Everything the child wrote to standard error (``Output/capture``), once the pipe
    /// reached end-of-file; empty if it was not captured.
    public func capturedError() async -> [UInt8] { await standardErrorBytes?.wait() ?? [] }

    // MARK: signals

    /// Sends `signal` to the child if it has not been reaped. Returns whether it was sent.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        reaped.withLock { reaped in !reaped && kill(pid, signal) == 0 }
    }

    /// Sends `signal` to the child's whole process group if the child leads one (see
    /// `newProcessGroup`) and has not been reaped: while the leader is unreaped, the group's
    /// id cannot belong to anyone else. Returns whether it was sent.
    @discardableResult
    public func signalGroup(_ signal: Int32) -> Bool {
        guard leadsProcessGroup else { return false }
        return reaped.withLock { reaped in !reaped && kill(-pid, signal) == 0 }
    }

    /// SIGTERM, then SIGKILL if the child has not ended within `grace`; returns how it ended.
    @discardableResult
    public func terminate(grace: Duration = .seconds(5), clock: any Clock<Duration> = ContinuousClock()) async -> Termination {
        signal(SIGTERM)
        let killer = Task {
            try await clock.sleep(for: grace)
            signal(SIGKILL)
        }
        defer { killer.cancel() }
        return await wait()
    }

    // MARK: threads

    /// Waits for the exit on a thread of its own: first without reaping (`WNOWAIT`), then
    /// reaps under the lock that signalling takes.
    private func startWaiting() {
        let pid = pid
        Self.startThread(name: "wait \(pid)") { [self] in
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
            let termination = reaped.withLock { reaped -> Termination in
                reaped = true
                var status: Int32 = 0
                var result: pid_t
                repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
                return result == pid ? Termination(waitStatus: status) : .unknown
            }
            exit.complete(termination)
        }
    }

    /// Reads `fd` to end-of-file on a thread of its own, then closes it.
    private static func readToEnd(_ fd: Int32, into bytes: Completion<[UInt8]>, name: String) {
        startThread(name: name) {
            var collected: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    collected += buffer[0..<count]
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            close(fd)
            bytes.complete(collected)
        }
    }

    private static func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        // These threads only wait and copy: a small stack keeps hundreds of them cheap.
        thread.stackSize = 256 << 10
        thread.start()
    }
}
