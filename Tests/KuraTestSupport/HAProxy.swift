#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A real haproxy (Debian's `haproxy`) in front of some `kura serve` nodes, for the cluster
/// tests: HTTP mode on a free port of 127.0.0.1, round robin per request, health checks on
/// `/readyz` every 300 ms (a node is out after one failed check), and a request that cannot
/// connect to its node tried on another. Every response says which node answered
/// (`X-Kura-Node`), and a request with `X-Kura-Node: NAME` goes to that node while it is up,
/// so a test can put a request on the node it means to kill.
///
/// Stopped by ``stop()``, and when the test process exits (a watchdog kills it if the test
/// process dies first). If haproxy is not installed, the tests that need it fail saying so.
public final class HAProxy: Sendable {
    public let port: Int
    public let nodeNames: [String]
    private let process: ChildProcess
    public let directory: String

    public enum Failure: Error, CustomStringConvertible {
        case missingBinary
        case didNotStart(String)
        public var description: String {
            switch self {
            case .missingBinary: "the cluster tests need haproxy: \(HAProxy.executable) not found (apt-get install haproxy; scripts/install-deps does)"
            case .didNotStart(let detail): "haproxy did not start: \(detail)"
            }
        }
    }

    public static let executable = "/usr/sbin/haproxy"

    /// haproxy in front of `nodes` (`name`, port on 127.0.0.1), its files in `directory`.
    public init(nodes: [(name: String, port: Int)], directory: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else { throw Failure.missingBinary }
        port = try SeaweedFS.freePorts(1)[0]
        nodeNames = nodes.map(\.name)
        self.directory = directory
        let configuration = Self.configuration(port: port, nodes: nodes)
        try configuration.write(toFile: "\(directory)/haproxy.cfg", atomically: true, encoding: .utf8)
        // -db: stay in the foreground, so the test owns the process.
        process = try ChildProcess.spawn(
            Self.executable, ["-db", "-f", "\(directory)/haproxy.cfg"], standardOutput: .file("\(directory)/haproxy.log"),
            standardError: .standardOutput)
        let pid = process.pid
        _ = try ProcessWatchdog.start(running: "kill -KILL \(pid) 2>/dev/null")
    }

    /// The configuration: what `scripts/cluster` writes too, plus the node-steering rule.
    static func configuration(port: Int, nodes: [(name: String, port: Int)]) -> String {
        var text = """
            global
                maxconn 512
            defaults
                mode http
                timeout connect 2s
                timeout client 120s
                timeout server 120s
                # A health check's answer may take up to 2 s (without this, the 300 ms
                # interval: on a loaded run all three nodes once failed one check at once,
                # and a request got 503). A stopped node still fails at once (refused).
                timeout check 2s
                # A request that cannot connect to its node goes to another.
                retries 3
                option redispatch
            frontend registry
                bind 127.0.0.1:\(port)
                default_backend kura
            backend kura
                balance roundrobin
                option httpchk GET /readyz
                http-check expect status 200
                http-response set-header X-Kura-Node %s

            """
        for node in nodes {
            text += "    use-server \(node.name) if { req.hdr(x-kura-node) -m str \(node.name) }\n"
        }
        for node in nodes {
            text += "    server \(node.name) 127.0.0.1:\(node.port) check inter 300ms fall 1 rise 2\n"
        }
        return text
    }

    public var log: String { (try? String(contentsOfFile: "\(directory)/haproxy.log", encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM (haproxy stops at once), SIGKILL after 2 s; then waits for the exit.
    public func stop() async {
        await process.terminate(grace: .seconds(2))
    }
}
