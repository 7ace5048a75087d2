public import KuraCore
public import KuraMetadata
public import KuraRegistry
import Synchronization

/// Enforces each namespace's ``ScanPolicy`` on pulls: a manifest whose stored scan holds
/// findings at or above the policy's severity (not allow-listed) is refused with `DENIED`,
/// naming the count and the worst advisory. Manifests not (yet) scanned, failed scans and
/// namespaces without a policy pass. Policies are cached for a few seconds per namespace,
/// so a pull without one costs no catalog read most of the time.
public final class ScanPullPolicy: ManifestPullCheck {
    private let store: any ScanStore
    private let cache = Mutex<[String: (policy: ScanPolicy?, loadedAt: ContinuousClock.Instant)]>([:])
    private static let cacheLifetime = Duration.seconds(10)
    /// Drops cached policies when any node changes one (see ``CatalogChangeFeed``).
    private let feedSubscription = Mutex<CatalogFeedSubscription?>(nil)

    public init(store: any ScanStore, changes: CatalogChangeFeed? = nil) {
        self.store = store
        let subscription = changes?.subscribe { [weak self] event in
            switch event {
            case .changed(let change) where change != .scanPolicies: break
            case .manifestsChanged: break
            default: self?.invalidate()
            }
        }
        feedSubscription.withLock { $0 = subscription }
    }

    /// Forgets cached policies (after one is set or removed here).
    public func invalidate() {
        cache.withLock { $0.removeAll() }
    }

    public func checkPull(of record: ManifestRecord, in repository: RepositoryName) async throws {
        let namespace = String(repository.firstComponent)
        guard let policy = try await policy(for: namespace), let threshold = Severity(rawValue: policy.minimumSeverity) else { return }
        guard let stored = try await store.scan(of: record.digest), let report = try StoredScan(stored).report else { return }
        let blocking = Self.blockingFindings(report.findings, threshold: threshold, allowList: Set(policy.allowList))
        guard let worst = blocking.first else { return }
        throw RegistryError(
            .denied,
            "pull refused by the scan policy of namespace \(namespace): \(blocking.count) finding\(blocking.count == 1 ? "" : "s") at "
                + "\(threshold.rawValue) or above; worst \(worst.advisoryID) (\(worst.severity.rawValue)\(worst.score.map { " \($0)" } ?? ""), "
                + "\(worst.packageName) \(worst.installedVersion))",
            detail: record.digest.description)
    }

    /// Findings at or above `threshold` whose id and aliases are all off the allow-list,
    /// worst first (by severity, then score).
    static func blockingFindings(_ findings: [Finding], threshold: Severity, allowList: Set<String>) -> [Finding] {
        findings
            .filter { $0.severity >= threshold && !allowList.contains($0.advisoryID) && allowList.isDisjoint(with: $0.aliases) }
            .sorted { ($0.severity, $0.score ?? -1) > ($1.severity, $1.score ?? -1) }
    }

    private func policy(for namespace: String) async throws -> ScanPolicy? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[namespace] }), now - cached.loadedAt < Self.cacheLifetime { return cached.policy }
        let policy = try await store.scanPolicy(namespace: namespace)
        cache.withLock { $0[namespace] = (policy, now) }
        return policy
    }
}
