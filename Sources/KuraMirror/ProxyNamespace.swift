/// A namespace that is a pull-through cache of an upstream registry: a pull of
/// `NAMESPACE/REPO:TAG` that is not here yet comes from `UPSTREAM/REPO:TAG` (or, with an
/// `upstreamPrefix`, from `UPSTREAM/PREFIX/REPO:TAG`) and is kept.
public struct ProxyNamespace: Sendable {
    public var namespace: String
    public var upstream: RegistryEndpoint
    /// Prepended to upstream repository names (e.g. `library` for Docker Hub's official images).
    public var upstreamPrefix: String?
    /// How long a cached tag is trusted before it is checked against the upstream again.
    public var tagTTL: Duration
    /// Bytes of a blob being fetched that are held in memory for its clients; beyond this,
    /// the slowest client paces the upstream.
    public var fillWindow: Int
    /// How long a fill waits for a client that reads nothing before cutting it off.
    public var stalledClientTimeout: Duration

    public init(
        namespace: String, upstream: RegistryEndpoint, upstreamPrefix: String? = nil, tagTTL: Duration = .seconds(300),
        fillWindow: Int = 8 << 20, stalledClientTimeout: Duration = .seconds(30)
    ) {
        self.namespace = namespace
        self.upstream = upstream
        self.upstreamPrefix = upstreamPrefix
        self.tagTTL = tagTTL
        self.fillWindow = fillWindow
        self.stalledClientTimeout = stalledClientTimeout
    }

    /// The upstream repository of a local one (`NAMESPACE/a/b` → `[PREFIX/]a/b`).
    func upstreamRepository(_ local: String) -> String {
        let rest = local.split(separator: "/").dropFirst().joined(separator: "/")
        guard let upstreamPrefix, !upstreamPrefix.isEmpty else { return rest }
        return "\(upstreamPrefix)/\(rest)"
    }
}
