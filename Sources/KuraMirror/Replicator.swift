public import AsyncHTTPClient
public import Foundation
public import Logging
public import KuraMetadata

/// Runs replication rules inside `kura serve`: on their schedule, after pushes (push
/// rules), or on demand. One run per rule at a time; a trigger during a run queues one
/// more run. A run with failures is retried with backoff; mirror runs are incremental, so a
/// retry copies only what is still missing. Each run is recorded.
public actor Replicator {
    private let store: ReplicationRuleStore
    private let http: HTTPClient
    private let logger: Logger
    private var rules: [String: ReplicationRule] = [:]
    private var history: [ReplicationRun] = []
    private var running: Set<String> = []
    private var queued: [String: String] = [:]
    private var lastStart: [String: ContinuousClock.Instant] = [:]
    private var retries: [String: (at: ContinuousClock.Instant, delay: Duration)] = [:]
    private var localURL: String?
    /// Runs kept in memory for the admin API (all are in `replication-runs.jsonl`).
    static let historyLimit = 200

    /// Loads the rules kept in the catalog; their passwords are sealed with `sealingKey`
    /// (shared by the nodes of a cluster) or else the key in `dataDirectory`, where the
    /// record of runs goes too.
    public init(
        dataDirectory: String, catalog: any ReplicationStore, sealingKey: Data? = nil,
        httpClient: HTTPClient = PullThroughCache.upstreamHTTPClient, logger: Logger
    ) async throws {
        store = try ReplicationRuleStore(directory: dataDirectory, catalog: catalog, sealingKey: sealingKey)
        http = httpClient
        self.logger = logger
        for rule in try await store.load() { rules[rule.name] = rule }
    }

    /// Where this registry answers (learnt once its listener is up).
    public func setLocalURL(_ url: String) { localURL = url }

    public func allRules() -> [ReplicationRule] { rules.values.sorted { $0.name < $1.name } }

    public func rule(_ name: String) -> ReplicationRule? { rules[name] }

    /// Adds or replaces a rule (validated, stored with sealed passwords).
    public func put(_ rule: ReplicationRule) async throws {
        try rule.validate()
        try await store.save(rule)
        rules[rule.name] = rule
    }

    /// Removes a rule; false when there was none.
    public func remove(_ name: String) async throws -> Bool {
        guard rules[name] != nil else { return false }
        _ = try await store.delete(name)
        rules[name] = nil
        return true
    }

    /// Recent runs, newest first, optionally of one rule.
    public func runs(of rule: String? = nil) -> [ReplicationRun] {
        history.reversed().filter { rule == nil || $0.rule == rule }
    }

    /// A push into `repository` happened: push rules of its namespace run.
    public nonisolated func pushed(_ repository: String) {
        let namespace = String(repository.split(separator: "/").first ?? "")
        Task { await self.pushed(namespace: namespace) }
    }

    private func pushed(namespace: String) {
        for rule in rules.values where rule.direction == .push && rule.onPush && rule.namespace == namespace {
            trigger(rule.name, reason: "push")
        }
    }

    /// Starts a run of `name` now, or after the one under way.
    public func trigger(_ name: String, reason: String) {
        guard let rule = rules[name] else { return }
        if running.contains(name) {
            queued[name] = reason
            return
        }
        running.insert(name)
        lastStart[name] = .now
        Task { await self.execute(rule, reason: reason) }
    }

    /// Triggers scheduled runs and retries that are due; `kura serve` calls it every second.
    public func tick() {
        let now = ContinuousClock.now
        for rule in rules.values {
            if let retry = retries[rule.name], retry.at <= now, !running.contains(rule.name) {
                trigger(rule.name, reason: "retry")
            } else if let interval = rule.intervalSeconds {
                let due = (lastStart[rule.name] ?? .now - .seconds(interval)) + .seconds(interval)
                if due <= now { trigger(rule.name, reason: "schedule") }
            }
        }
    }

    private func execute(_ rule: ReplicationRule, reason: String) async {
        let started = Date()
        var run = ReplicationRun(rule: rule.name, trigger: reason, started: started, seconds: 0, counts: MirrorCounts(), failures: [], error: nil)
        do {
            let summary = try await mirror(for: rule).run()
            run.counts = summary.total
            run.failures = summary.failures
        } catch {
            run.error = "\(error)"
        }
        run.seconds = Date().timeIntervalSince(started)
        finish(rule, run)
    }

    private func finish(_ rule: ReplicationRule, _ run: ReplicationRun) {
        history.append(run)
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
        store.append(run)
        if run.succeeded {
            retries[rule.name] = nil
        } else {
            // Back off: 5 s, doubling, at most 10 minutes.
            let delay = Swift.min(.seconds(600), (retries[rule.name]?.delay ?? .milliseconds(2_500)) * 2)
            retries[rule.name] = (.now + delay, delay)
            logger.warning("replication run failed", metadata: ["rule": "\(rule.name)", "error": "\(run.error ?? run.failures.first?.message ?? "")"])
        }
        running.remove(rule.name)
        if let reason = queued.removeValue(forKey: rule.name) { trigger(rule.name, reason: reason) }
    }

    private func mirror(for rule: ReplicationRule) throws -> Mirror {
        guard let localURL else { throw MirrorError.invalidArgument("the server's own address is not known yet") }
        let local = RegistryClient(endpoint: try RegistryEndpoint(parsing: localURL, credentials: rule.localCredentials), httpClient: http)
        let remote = RegistryClient(endpoint: try RegistryEndpoint(parsing: rule.remote, credentials: rule.remoteCredentials), httpClient: http)
        let tags = try TagFilter(regex: rule.tags)
        switch rule.direction {
        case .push:
            let from = rule.namespace, to = rule.remoteNamespaceName
            return Mirror(
                source: local, target: remote,
                options: MirrorOptions(prefix: from + "/", tags: tags, targetRepository: { ReplicationRule.renamed($0, from: from, to: to) }))
        case .pull:
            let from = rule.remoteNamespaceName, to = rule.namespace
            return Mirror(
                source: remote, target: local,
                options: MirrorOptions(prefix: from + "/", tags: tags, targetRepository: { ReplicationRule.renamed($0, from: from, to: to) }))
        }
    }
}
