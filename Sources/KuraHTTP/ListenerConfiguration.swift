public import KuraCore

/// One endpoint `kura serve` listens on: its address, which APIs it serves, who may connect,
/// and whether it speaks TLS.
public struct ListenerConfiguration: Sendable {
    /// The groups of routes a listener can serve. `/healthz` and `/readyz` are on every
    /// listener.
    public enum API: String, Sendable, Hashable, CaseIterable {
        /// The OCI Distribution API (`/v2/`) and the token endpoint (`/token`).
        case v2
        /// The admin API (`/api/v1/`).
        case admin
        /// The web console (KuraDashboard) at `/`.
        case dashboard
    }

    /// PEM files for a TLS listener. They are re-read when they change (polled) or on
    /// ``TLSCertificateStore/reload()`` (SIGHUP in `kura serve`).
    public struct TLSFiles: Sendable, Hashable {
        public var certificatePath: String
        public var keyPath: String

        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    /// A short name for logs (`public`, `private`).
    public var name: String
    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    public var apis: Set<API>
    /// Whether callers without credentials may pull from public namespaces here.
    public var anonymousPull: Bool
    /// The networks whose clients may connect; `nil` admits everyone. A connection from
    /// elsewhere is closed as it is accepted, before any byte is read.
    public var allow: [NetworkRange]?
    public var tls: TLSFiles?
    /// Peers whose `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` are
    /// believed; from anyone else these headers are ignored.
    public var trustedProxies: [NetworkRange]
    /// Timeouts and the per-address connection cap; `nil` takes the server-wide
    /// ``ServerConfiguration/connections``.
    public var connections: ConnectionSettings?

    public init(
        name: String, host: String, port: Int, apis: Set<API> = Set(API.allCases), anonymousPull: Bool = true,
        allow: [NetworkRange]? = nil, tls: TLSFiles? = nil, trustedProxies: [NetworkRange] = [],
        connections: ConnectionSettings? = nil
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.apis = apis
        self.anonymousPull = anonymousPull
        self.allow = allow
        self.tls = tls
        self.trustedProxies = trustedProxies
        self.connections = connections
    }

    /// `http` or `https`, as the client sees this listener without a proxy in front.
    public var scheme: String { tls == nil ? "http" : "https" }
}
