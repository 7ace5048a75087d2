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
    /// Runs `executable` with `arguments` (no shell), in `directory` if given. Output goes to
    /// files in `scratch` (so a chatty program can never fill a pipe and stall); the wait
    /// happens in the process's termination handler, never on a cooperative thread: a test
    /// that blocked one (a `go build` with `waitUntilExit`) stalled every in-process server of
    /// the run on this 2-core machine. `input` is its standard input (else none); past
    /// `timeout` it is killed (SIGKILL). Throws ``ExternalProcessFailure`` on a non-zero exit
    /// unless `check` is false.
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
        for path in [outPath, errPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw ExternalProcessFailure(command: [executable] + arguments, result: .init(status: -1, stdout: "", stderr: "cannot create \(path)"))
        }
        defer {
            if stdoutFile == nil { try? FileManager.default.removeItem(atPath: outPath) }
            try? FileManager.default.removeItem(atPath: errPath)
            try? FileManager.default.removeItem(atPath: inPath)
        }
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let input {
            try Data(input.utf8).write(to: URL(fileURLWithPath: inPath))
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = outHandle
        process.standardError = errHandle

        // Killed at the deadline unless it ended before (then the killer is cancelled).
        var killer: Task<Void, Never>?
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                continuation.resume(returning: finished.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            if let timeout {
                let pid = process.processIdentifier
                killer = Task {
                    // A deadline on the given clock, not a wait for something to happen.
                    try? await clock.sleep(for: timeout)
                    if !Task.isCancelled { kill(pid, SIGKILL) }
                }
            }
        }
        killer?.cancel()
        try? outHandle.close()
        try? errHandle.close()

        let stdout = stdoutFile == nil ? ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "") : ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let result = ExternalProcessResult(status: status, stdout: stdout, stderr: stderr)
        guard status == 0 || !check else {
            throw ExternalProcessFailure(command: [executable] + arguments, result: result)
        }
        return result
    }
}

