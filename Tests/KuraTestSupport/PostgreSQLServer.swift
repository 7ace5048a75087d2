#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A real PostgreSQL 15 (Debian's `postgresql-15`) for the catalog tests: one server per test
/// process, started on first use, each test in a database of its own.
///
/// - `initdb` in a fresh temporary folder, then `pg_ctl start` on a free port of 127.0.0.1
///   (and a Unix socket in that folder). PostgreSQL refuses to run as root, so under root
///   both run as the `postgres` user (`runuser -u postgres --`) over a folder it owns.
/// - Stopped when the test process exits (SIGQUIT to the postmaster: an immediate shutdown)
///   and its folder removed; a ``ProcessWatchdog`` does the same if the test process dies
///   without running `atexit`.
/// - If PostgreSQL is not installed, every test that needs it fails with a message saying
///   how to install it; nothing is skipped.
public struct PostgreSQLServer: Sendable {
    public let port: Int
    public let directory: String

    public enum Failure: Error, CustomStringConvertible {
        case missingBinary(String)
        case didNotStart(String)
        case command(String)
        public var description: String {
            switch self {
            case .missingBinary(let name):
                "the catalog tests need PostgreSQL 15: \(name) not found in \(PostgreSQLServer.binaries) (apt-get install postgresql-15; scripts/install-deps does)"
            case .didNotStart(let detail): "PostgreSQL did not start: \(detail)"
            case .command(let detail): "a PostgreSQL command failed: \(detail)"
            }
        }
    }

    /// Where Debian installs the server programs.
    public static let binaries = "/usr/lib/postgresql/15/bin"

    private static let starting = Task { try await start() }

    /// The server shared by the whole test process, started on first use.
    public static var shared: PostgreSQLServer {
        get async throws { try await starting.value }
    }

    /// A new, empty database on the shared server; returns its URL. Drop it with
    /// ``dropDatabase(_:)`` when done.
    /// A copy of `template` when given (a database already migrated, so many tests starting
    /// at once do not each run every migration on a loaded machine).
    public static func makeDatabase(template: String? = nil) async throws -> (url: String, name: String) {
        let server = try await shared
        let name = "kura_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await server.psql("CREATE DATABASE \(name)" + (template.map { " TEMPLATE \($0)" } ?? ""))
        return (server.url(database: name), name)
    }

    /// Ends every session on `database` (so it can serve as a template).
    public static func disconnectAll(from database: String) async throws {
        try await shared.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()")
    }

    public static func dropDatabase(_ name: String) async {
        guard let server = try? await shared else { return }
        try? await server.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE` (trust authentication).
    public func url(database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

    /// Runs one SQL command through `psql` as the superuser.
    public func psql(_ sql: String, database: String = "postgres") async throws {
        let output = try await Self.run(
            "\(Self.binaries)/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-c", sql],
            asPostgres: false)
        if output.status != 0 { throw Failure.command("psql -c \(sql): \(output.text)") }
    }

    // MARK: process

    private static let cleanup = Mutex<[(pidFile: String, directory: String)]>([])

    private static func start() async throws -> PostgreSQLServer {
        for name in ["initdb", "pg_ctl", "psql"] where !FileManager.default.isExecutableFile(atPath: "\(binaries)/\(name)") {
            throw Failure.missingBinary(name)
        }
        let asRoot = getuid() == 0
        let directory = "/tmp/kura-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        if asRoot {
            let chown = try await run("/bin/chown", ["-R", "postgres:postgres", directory], asPostgres: false)
            guard chown.status == 0 else { throw Failure.didNotStart("chown: \(chown.text)") }
        }
        let initdb = try await run(
            "\(binaries)/initdb", ["-D", directory + "/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"],
            asPostgres: asRoot)
        guard initdb.status == 0 else { throw Failure.didNotStart("initdb: \(initdb.text)") }
        let port = try SeaweedFS.freePorts(1)[0]
        // fsync off: a test database need not survive a power cut, and the 2-core machine
        // the suite runs on is slow enough.
        let options = "-p \(port) -k \(directory)/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200"
        installExitHandler()
        cleanup.withLock { $0.append((directory + "/data/postmaster.pid", directory)) }
        let started = try await run(
            "\(binaries)/pg_ctl", ["-D", directory + "/data", "-o", options, "-l", directory + "/server.log", "-w", "-t", "60", "start"],
            asPostgres: asRoot)
        guard started.status == 0 else {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw Failure.didNotStart("pg_ctl start: \(started.text)\n\(log.suffix(2000))")
        }
        // If the test process dies without running atexit: an immediate shutdown, then the folder.
        if let pid = postmasterPID(directory + "/data/postmaster.pid") {
            _ = try ProcessWatchdog.start(running: "kill -QUIT \(pid) 2>/dev/null; sleep 2; rm -rf '\(directory)'")
        }
        return PostgreSQLServer(port: port, directory: directory)
    }

    private static func postmasterPID(_ pidFile: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let first = text.split(separator: "\n").first, let pid = pid_t(first)
        else { return nil }
        return pid
    }

    private static func installExitHandler() {
        atexit {
            for (pidFile, directory) in PostgreSQLServer.cleanup.withLock({ $0 }) {
                if let pid = PostgreSQLServer.postmasterPID(pidFile) {
                    kill(pid, SIGQUIT)
                    // The postmaster's children go with it within a moment; wait for it
                    // (bounded) so the folder is removed after the last write.
                    for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
                }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }

    /// Runs a program to its end (as `postgres` when asked), with its output.
    ///
    /// posix_spawn and waitpid, not Foundation's `Process`: `pg_ctl` leaves a daemon behind,
    /// and `Process` was seen never to notice that `runuser` had exited (it stayed a zombie).
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool) async throws -> (status: Int32, text: String) {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("kura-pg-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process goes to the child: `pg_ctl` leaves the server running
        // as a daemon, and a daemon holding the test process's sockets (listening sockets of
        // stopped test servers, connections they closed) made later tests hang on ports that
        // still accepted but nobody answered.
        try closeEverythingFromThree(&actions)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Failure.command("posix_spawn \(argv[0]): errno \(spawned)") }
        var status: Int32 = 0
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0, errno != EINTR { throw Failure.command("waitpid \(argv[0]): errno \(errno)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        // WIFEXITED/WEXITSTATUS are macros Swift does not import.
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}

/// `posix_spawn_file_actions_addclosefrom_np(actions, 3)` (glibc 2.34+), looked up at run
/// time: Swift's Glibc module does not import it.
private func closeEverythingFromThree(_ actions: inout posix_spawn_file_actions_t) throws {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
        throw PostgreSQLServer.Failure.command("posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later is needed)")
    }
    let addCloseFrom = unsafeBitCast(symbol, to: AddCloseFrom.self)
    let status = addCloseFrom(&actions, 3)
    guard status == 0 else { throw PostgreSQLServer.Failure.command("posix_spawn_file_actions_addclosefrom_np: errno \(status)") }
}

