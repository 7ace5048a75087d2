/// Copies repositories from one registry to another: tags (filtered), their manifests byte
/// for byte, every blob they need, index children and referrers. A run is incremental
/// (what the target has is checked first and skipped), parallel, optionally rate-limited,
/// and goes on past failures, which it reports in its summary.
public struct Mirror: Sendable {
    public let source: RegistryClient
    public let target: RegistryClient
    public let options: MirrorOptions

    public init(source: RegistryClient, target: RegistryClient, options: MirrorOptions) {
        self.source = source
        self.target = target
        self.options = options
    }

    /// The source repositories this run covers: those named, and those of the catalog under the prefix.
    public func repositories() async throws -> [String] {
        var names = options.repositories
        if let prefix = options.prefix {
            names += try await source.catalog().filter { $0.hasPrefix(prefix) }
        }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// Runs the mirror; `progress` hears each step. Throws only when the source cannot even be
    /// listed; failures of single repositories or tags are in the summary.
    public func run(progress: @escaping @Sendable (MirrorEvent) -> Void = { _ in }) async throws -> MirrorSummary {
        let started = ContinuousClock.now
        try await target.ping()
        let names = try await repositories()
        let run = MirrorRun(
            source: source, target: target, options: options, ledger: MirrorLedger(), transfers: AsyncPermits(options.parallelism),
            limiter: options.bytesPerSecond.map { ByteRateLimiter(bytesPerSecond: $0) }, progress: progress)
        await withTaskGroup(of: Void.self) { group in
            var pending = names[...]
            for _ in 0..<Swift.min(options.parallelism, pending.count) {
                let name = pending.removeFirst()
                group.addTask { await run.copyRepository(name) }
            }
            while await group.next() != nil {
                if let name = pending.popFirst() { group.addTask { await run.copyRepository(name) } }
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return await run.ledger.summary(source: source.endpoint.baseURL, target: target.endpoint.baseURL, dryRun: options.dryRun, seconds: seconds)
    }
}
