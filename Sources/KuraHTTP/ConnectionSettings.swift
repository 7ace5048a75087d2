/// How long a listener waits on a client, and how many connections one address may hold.
/// A slow or stalled client is closed instead of holding a file descriptor (and, during an
/// upload, its session) for ever.
public struct ConnectionSettings: Sendable, Hashable {
    /// A kept-alive connection with no request for this long is closed.
    public var idleTimeout: Duration
    /// A new connection must deliver a complete request head within this time.
    public var requestHeadTimeout: Duration
    /// While a request body is read, bytes must keep arriving: a gap this long closes the
    /// connection (and frees the upload session the request held).
    public var bodyTimeout: Duration
    /// Open connections one source address may hold; 0 for no cap. Peers in the listener's
    /// `trustedProxies` are not capped (every client behind them shares their address).
    public var maxPerAddress: Int

    public init(
        idleTimeout: Duration = .seconds(75), requestHeadTimeout: Duration = .seconds(30), bodyTimeout: Duration = .seconds(60),
        maxPerAddress: Int = 256
    ) {
        self.idleTimeout = idleTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.bodyTimeout = bodyTimeout
        self.maxPerAddress = maxPerAddress
    }
}
