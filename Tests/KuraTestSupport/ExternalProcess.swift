#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What an external program left behind.
public struct ExternalProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// An external program that exited with a non-zero status.
public struct ExternalProcessFailure: Error, CustomStringConvertible {
    public let command: [String]
    public let result: ExternalProcessResult

    public init(command: [String], result: ExternalProcessResult) {
        self.command = command
        self.result = result
    }

    public var description: String {
        "`\(command.joined(separator: " "))` exited with status \(result.status)\n"
            + "stderr:\n\(result.stderr)\nstdout:\n\(result.stdout)"
    }
}

public enum ExternalProcess {
    /// Runs `executable` with `arguments` (no shell), in `directory` if given, through
    /// ``ChildProcess`` (posix_spawn; never Foundation's `Process`, whose `run()` crashed the
    /// test process at random). Output goes to files in `scratch` (so a chatty program can
    /// never fill a pipe and stall, and a daemon it leaves behind cannot hold the result
    /// back); the wait never blocks a cooperative thread: a test that blocked one (a
    /// `go build` with `waitUntilExit`) stalled every in-process server of the run on this
    /// 2-core machine. `input` is its standard input (else none); past `timeout` it is killed
    /// (SIGKILL). The status is the exit status, or 128 + the signal that ended it. Throws
    /// ``ExternalProcessFailure`` on a non-zero status unless `check` is false.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: String? = nil, scratch: String, stdoutFile: String? = nil, input: String? = nil,
        timeout: Duration? = nil, check: Bool = true, clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> ExternalProcessResult {
        let id = UUID().uuidString
        let outPath = stdoutFile ?? "\(scratch)/\(id).stdout"
        let errPath = "\(scratch)/\(id).stderr"
        let inPath = "\(scratch)/\(id).stdin"
        defer {
            if stdoutFile == nil { try? FileManager.default.removeItem(atPath: outPath) }
            try? FileManager.default.removeItem(atPath: errPath)
            try? FileManager.default.removeItem(atPath: inPath)
        }
        if let input { try Data(input.utf8).write(to: URL(fileURLWithPath: inPath)) }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable, arguments, environment: environment, directory: directory,
                standardInput: input == nil ? .null : .file(inPath), standardOutput: .file(outPath), standardError: .file(errPath))
        } catch {
            throw ExternalProcessFailure(command: [executable] + arguments, result: .init(status: -1, stdout: "", stderr: "\(error)"))
        }

        // Killed at the deadline unless it ended before (then the killer is cancelled).
        let killer = timeout.map { timeout in
            Task {
                // A deadline on the given clock, not a wait for something to happen.
                try await clock.sleep(for: timeout)
                child.signal(SIGKILL)
            }
        }
        let status = await child.wait().shellStatus
        killer?.cancel()

        let stdout = stdoutFile == nil ? ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") : ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let result = ExternalProcessResult(status: status, stdout: stdout, stderr: stderr)
        guard status == 0 || !check else {
            throw ExternalProcessFailure(command: [executable] + arguments, result: result)
        }
        return result
    }
}
