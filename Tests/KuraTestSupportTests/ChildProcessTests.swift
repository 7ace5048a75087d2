#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KuraTestSupport
import Testing

/// The tests' own spawner (posix_spawn, not Foundation's `Process`): what the child gets,
/// how its end is told, and that the parent keeps nothing of it.
@Suite("Child process")
struct ChildProcessTests {
    static let shell = "/bin/sh"

    /// A fresh folder under the temporary directory, removed afterwards.
    func withFolder<T>(_ body: (String) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-spawn-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try await body(folder)
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func anExitStatusAndADeathBySignalAreTold() async throws {
        let three = try ChildProcess.spawn(Self.shell, ["-c", "exit 3"])
        #expect(await three.wait() == .exited(3))
        #expect(three.termination?.shellStatus == 3 && !three.isRunning)
        #expect(!three.signal(SIGTERM), "a reaped child is never signalled (its pid may be someone else's)")

        let sleeper = try ChildProcess.spawn("/bin/sleep", ["600"])
        #expect(sleeper.isRunning)
        #expect(sleeper.signal(SIGTERM))
        #expect(await sleeper.wait() == .signalled(SIGTERM))
        #expect(sleeper.termination?.shellStatus == 128 + SIGTERM)

        try await withFolder { folder in
            // SIGTERM ignored (inherited through exec), and said so once it is.
            let stubborn = try ChildProcess.spawn(
                Self.shell, ["-c", "trap '' TERM; echo ignoring; exec sleep 600"], standardOutput: .file("\(folder)/out"))
            try await Poll.until("the shell to ignore SIGTERM", timeout: .seconds(60)) {
                (try? String(contentsOfFile: "\(folder)/out", encoding: .utf8)) == "ignoring\n" ? true : nil
            }
            #expect(await stubborn.terminate(grace: .milliseconds(200)) == .signalled(SIGKILL))
        }
    }

    @Test func argumentsAndEnvironmentArriveExactly() async throws {
        let arguments = ["a b", "", "ü – \"quoted\" $HOME", "--flag=x=y"]
        let echo = try ChildProcess.spawn(
            Self.shell, ["-c", #"for a in "$@"; do printf '[%s]\n' "$a"; done"#, "sh"] + arguments, standardOutput: .capture)
        #expect(await echo.wait() == .exited(0))
        #expect(text(await echo.capturedOutput()) == arguments.map { "[\($0)]\n" }.joined())

        let environment = ["KURA_ONE": "1", "KURA_TWO": "x y=z", "EMPTY": ""]
        let env = try ChildProcess.spawn("/usr/bin/env", environment: environment, standardOutput: .capture)
        #expect(await env.wait() == .exited(0))
        let printed = text(await env.capturedOutput()).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(Set(printed.map(String.init)) == Set(environment.map { "\($0.key)=\($0.value)" }))
        #expect(printed.count == environment.count, "nothing else: \(printed)")

        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.spawn(Self.shell, ["-c", "true\0false"]) }
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.spawn(Self.shell, environment: ["A": "1\0"]) }
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.spawn("/nonexistent/program-\(UUID().uuidString)") }
    }

    @Test func outputLargerThanAPipeHoldsIsCapturedWholeOnBothStreams() async throws {
        // About 1.3 MB on stdout and 0.6 MB on stderr, interleaved: a reader that drained one
        // stream before the other would leave the child stuck on a full pipe.
        let child = try ChildProcess.spawn(
            Self.shell, ["-c", "seq 1 200000; seq 1 100000 >&2; seq 200001 200010"], standardOutput: .capture, standardError: .capture)
        #expect(await child.wait() == .exited(0))
        let output = text(await child.capturedOutput())
        let error = text(await child.capturedError())
        #expect(output.utf8.count > 1 << 20)
        #expect(output == (1...200_010).map { "\($0)\n" }.joined())
        #expect(error == (1...100_000).map { "\($0)\n" }.joined())
    }

    @Test func filesForTheStandardStreams() async throws {
        try await withFolder { folder in
            try "from a file\n".write(toFile: "\(folder)/in", atomically: true, encoding: .utf8)
            let cat = try ChildProcess.spawn(
                Self.shell, ["-c", "cat; echo oops >&2"], standardInput: .file("\(folder)/in"), standardOutput: .file("\(folder)/out"),
                standardError: .standardOutput)
            #expect(await cat.wait() == .exited(0))
            #expect(try String(contentsOfFile: "\(folder)/out", encoding: .utf8) == "from a file\noops\n")
            let again = try ChildProcess.spawn(Self.shell, ["-c", "echo more"], standardOutput: .file("\(folder)/out", append: true))
            #expect(await again.wait() == .exited(0))
            #expect(try String(contentsOfFile: "\(folder)/out", encoding: .utf8) == "from a file\noops\nmore\n")
            let fresh = try ChildProcess.spawn(Self.shell, ["-c", "echo new"], standardOutput: .file("\(folder)/out"))
            #expect(await fresh.wait() == .exited(0))
            #expect(try String(contentsOfFile: "\(folder)/out", encoding: .utf8) == "new\n", "truncated unless appending")
            let empty = try ChildProcess.spawn("/bin/cat", standardOutput: .capture)
            #expect(await empty.wait() == .exited(0))
            #expect(await empty.capturedOutput().isEmpty, "stdin is /dev/null unless given")
        }
    }

    @Test func theChildRunsInTheGivenDirectory() async throws {
        try await withFolder { folder in
            let real = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
            let pwd = try ChildProcess.spawn("/bin/pwd", ["-P"], directory: folder, standardOutput: .capture)
            #expect(await pwd.wait() == .exited(0))
            #expect(text(await pwd.capturedOutput()) == "\(real)\n")
            #expect(throws: ChildProcess.Failure.self) { try ChildProcess.spawn("/bin/pwd", directory: "\(folder)/missing") }
        }
    }

    /// Starts `grep` on its own signal state while this thread blocks SIGUSR2 and this
    /// process ignores it (both undone before returning; nothing here suspends, so it all
    /// happens on one thread).
    func spawnSignalReport() throws -> ChildProcess {
        var usr2 = sigset_t()
        sigemptyset(&usr2)
        sigaddset(&usr2, SIGUSR2)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &usr2, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        let previousHandler = signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, previousHandler) }
        return try ChildProcess.spawn("/bin/grep", ["-E", "^Sig(Blk|Ign):", "/proc/self/status"], standardOutput: .capture)
    }

    @Test func signalsAreDefaultAndUnblockedInTheChild() async throws {
        let report = try spawnSignalReport()
        #expect(await report.wait() == .exited(0))
        let lines = text(await report.capturedOutput()).split(separator: "\n")
        let masks = Dictionary(uniqueKeysWithValues: lines.compactMap { line -> (String, UInt64)? in
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let value = UInt64(parts[1], radix: 16) else { return nil }
            return (String(parts[0]), value)
        })
        // Signals 32 and 33 are glibc's own (thread cancellation, setxid): no program can
        // change them, and every spawner's children show them ignored.
        let glibcInternal: UInt64 = 1 << 31 | 1 << 32
        #expect(masks["SigBlk:"] == 0, "nothing blocked: \(lines)")
        #expect(masks["SigIgn:"].map { $0 & ~glibcInternal } == 0, "nothing ignored: \(lines)")
    }

    @Test func anUnrelatedOpenDescriptorOfTheParentIsNotInherited() async throws {
        // Opened without close-on-exec, at a number no shell uses for itself.
        let plain = open("/dev/null", O_RDONLY)
        try #require(plain >= 0)
        let high = fcntl(plain, F_DUPFD, 200)
        close(plain)
        try #require(high >= 200)
        defer { close(high) }
        #expect(fcntl(high, F_GETFD) & FD_CLOEXEC == 0, "it would be inherited but for closefrom")
        let child = try ChildProcess.spawn(
            Self.shell, ["-c", "for f in /proc/self/fd/*; do echo ${f##*/}; done"], standardOutput: .capture)
        #expect(await child.wait() == .exited(0))
        let descriptors = Set(text(await child.capturedOutput()).split(separator: "\n").compactMap { Int32($0) })
        #expect(!descriptors.contains(high), "\(descriptors)")
        // 0–2, plus at most the one the shell's glob reads /proc/self/fd through.
        #expect(descriptors.isSuperset(of: [0, 1, 2]) && descriptors.count <= 4, "\(descriptors)")
    }

    @Test func aProcessGroupIsSignalledAsAWhole() async throws {
        try await withFolder { folder in
            let leader = try ChildProcess.spawn(
                Self.shell, ["-c", "sleep 600 & echo $!; wait"], standardOutput: .file("\(folder)/pid"), newProcessGroup: true)
            let grandchild = try await Poll.until("the shell to start its sleep", timeout: .seconds(60)) { () -> pid_t? in
                let printed = (try? String(contentsOfFile: "\(folder)/pid", encoding: .utf8)) ?? ""
                return printed.hasSuffix("\n") ? pid_t(printed.dropLast()) : nil
            }
            #expect(getpgid(leader.pid) == leader.pid)
            #expect(getpgid(grandchild) == leader.pid)
            #expect(leader.signalGroup(SIGKILL))
            #expect(await leader.wait() == .signalled(SIGKILL))
            // The orphaned sleep is gone too (or a zombie its new parent has not reaped yet).
            _ = try await Poll.until("the grandchild to die", timeout: .seconds(60)) { () -> Bool? in
                guard let stat = try? String(contentsOfFile: "/proc/\(grandchild)/stat", encoding: .utf8) else { return true }
                return stat.split(separator: ")").last?.split(separator: " ").first == "Z" ? true : nil
            }
            let alone = try ChildProcess.spawn("/bin/sleep", ["600"])
            #expect(!alone.signalGroup(SIGKILL), "no group of its own: never signals the test's group")
            #expect(getpgid(alone.pid) == getpgrp())
            alone.signal(SIGKILL)
            #expect(await alone.wait() == .signalled(SIGKILL))
        }
    }

    @Test func manyConcurrentSpawnsLeaveNoDescriptorBehind() async throws {
        // Each child names its own stdout and stderr pipes ("pipe:[inode]"); once all are
        // done, none of those pipes is open in this process. (Counting /proc/self/fd would
        // race the other suites running meanwhile; the pipes' identities do not.)
        let pipes = try await withThrowingTaskGroup(of: (Int, String, ChildProcess.Termination).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let child = try ChildProcess.spawn(
                        Self.shell, ["-c", "readlink /proc/self/fd/1; readlink /proc/self/fd/2 >&2; echo \(index)"],
                        standardOutput: .capture, standardError: .capture)
                    let termination = await child.wait()
                    let output = String(decoding: await child.capturedOutput(), as: UTF8.self)
                    let error = String(decoding: await child.capturedError(), as: UTF8.self)
                    return (index, output + error, termination)
                }
            }
            var seen: [String] = []
            var indexes: Set<Int> = []
            for try await (index, printed, termination) in group {
                #expect(termination == .exited(0))
                let lines = printed.split(separator: "\n").map(String.init)
                #expect(lines.count == 3 && lines[1] == "\(index)", "\(lines)")
                seen += lines.filter { $0.hasPrefix("pipe:[") }
                indexes.insert(index)
            }
            #expect(indexes.count == 200)
            return seen
        }
        #expect(pipes.count == 400 && Set(pipes).count == 400, "a pipe of its own for every stream")
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")
        }
        #expect(Set(open).isDisjoint(with: pipes), "a capture pipe stayed open in the parent")
    }
}
