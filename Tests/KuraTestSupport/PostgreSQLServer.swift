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
    /// Output goes to a file, not a pipe: `pg_ctl` leaves the server running as a daemon,
    /// which would hold a pipe open. ``ChildProcess`` closes every other descriptor in the
    /// child: a daemon holding the test process's sockets (listening sockets of stopped test
    /// servers, connections they closed) made later tests hang on ports that still accepted
    /// but nobody answered.
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool) async throws -> (status: Int32, text: String) {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("kura-pg-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(argv[0], Array(argv.dropFirst()), standardOutput: .file(output), standardError: .standardOutput)
        } catch {
            throw Failure.command("\(error)")
        }
        let status = await child.wait().shellStatus
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
