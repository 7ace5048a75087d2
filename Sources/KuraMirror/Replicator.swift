public import AsyncHTTPClient
public import Foundation
public import Logging
public import KuraMetadata
import KuraRegistry

/// Runs replication rules inside `kura serve`: on their schedule, after pushes (push
/// rules), or on demand. One run per rule at a time; a trigger during a run queues one
/// more run. A run with failures is retried with backoff; mirror runs are incremental, so a
/// retry copies only what is still missing. Each run is recorded.
///
/// Nodes sharing a catalog (given as `leases`) run a rule on one node at a time: a run holds
/// the rule's lease in the catalog, a scheduled run first claims its round (so nodes whose
/// schedules fall in one interval run it once), and a push-triggered run that finds the
/// lease held tries again two seconds later. Rules are re-read from the catalog every
/// `ruleRefresh` (5 s), so a rule added, changed or removed through one node reaches the
/// others within that.
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
    private let leases: (any GarbageCollectionStore)?
    private let owner = JobLease.makeOwner()
    private let ruleRefresh: Duration
    private var lastRefresh = ContinuousClock.now
    /// Counts this node's own rule changes, so a re-read that overlapped one is dropped.
    private var edits = 0
    /// Runs kept in memory for the admin API (all are in `replication-runs.jsonl`).
    static let historyLimit = 200

    /// Loads the rules kept in the catalog; their passwords are sealed with `sealingKey`
    /// (shared by the nodes of a cluster) or else the key in `dataDirectory`, where the
    /// record of runs goes too.
    public init(
        dataDirectory: String, catalog: any ReplicationStore, sealingKey: Data? = nil, leases: (any GarbageCollectionStore)? = nil,
        ruleRefresh: Duration = .seconds(5), httpClient: HTTPClient = PullThroughCache.upstreamHTTPClient, logger: Logger
    ) async throws {
        store = try ReplicationRuleStore(directory: dataDirectory, catalog: catalog, sealingKey: sealingKey)
        http = httpClient
        self.logger = logger
        self.leases = leases
        self.ruleRefresh = ruleRefresh
        for rule in try await store.load() { rules[rule.name] = rule }
    }

    /// Where this registry answers (learnt once its listener is up).
    public func setLocalURL(_ url: String) { localURL = url }

    public func allRules() -> [ReplicationRule] { rules.values.sorted { $0.name < $1.name } }

    public func rule(_ name: String) -> ReplicationRule? { rules[name] }

    /// No run is under way or waiting here.
    public var isIdle: Bool { running.isEmpty && queued.isEmpty }

    /// Adds or replaces a rule (validated, stored with sealed passwords).
    public func put(_ rule: ReplicationRule) async throws {
        try rule.validate()
        edits += 1
        try await store.save(rule)
        rules[rule.name] = rule
    }

    /// Removes a rule; false when there was none.
    public func remove(_ name: String) async throws -> Bool {
        guard rules[name] != nil else { return false }
        edits += 1
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

    /// Re-reads the rules when `ruleRefresh` has passed, then triggers scheduled runs and
    /// retries that are due; `kura serve` calls it every second.
    public func tick() async {
        if ContinuousClock.now - lastRefresh >= ruleRefresh { await refreshRules() }
        let now = ContinuousClock.now
        for rule in rules.values {
            if let retry = retries[rule.name], retry.at <= now, !running.contains(rule.name) {
                trigger(rule.name, reason: "retry")
            } else if let interval = rule.intervalSeconds {
                // A rule not run here yet is due at once (against `now`: a fresh `.now` here
                // was always a moment later, so a scheduled rule never started on its own).
                let due = (lastStart[rule.name] ?? now - .seconds(interval)) + .seconds(interval)
                if due <= now { trigger(rule.name, reason: "schedule") }
            }
        }
    }

    /// The catalog's rules replace the ones known here (another node may have changed them).
    private func refreshRules() async {
        lastRefresh = .now
        let before = edits
        do {
            let loaded = try await store.rules()
            // A change made here while the rules were read is newer than what was read.
            guard edits == before else { return }
            rules = Dictionary(loaded.map { ($0.name, $0) }) { _, last in last }
            for name in retries.keys where rules[name] == nil { retries[name] = nil }
        } catch {
            logger.warning("replication rules could not be re-read from the catalog", metadata: ["error": "\(error)"])
        }
    }

    private func execute(_ rule: ReplicationRule, reason: String) async {
        guard let leases else { return finish(rule, await perform(rule, reason: reason)) }
        let lease = "replication:\(rule.name)"
        do {
            if reason == "schedule", let interval = rule.intervalSeconds,
                try await !JobLease.claimRound(leases, job: lease, owner: owner, interval: TimeInterval(interval))
            {
                return skip(rule, retryIn: nil)  // another node ran this round
            }
            guard let held = try await JobLease.hold(leases, name: lease, owner: owner, ttl: 60, { await self.perform(rule, reason: reason) })
            else {
                // Another node runs the rule now, perhaps from before what triggered this run.
                return skip(rule, retryIn: reason == "schedule" ? nil : .seconds(2))
            }
            finish(rule, held.value)
        } catch {
            finish(rule, ReplicationRun(rule: rule.name, trigger: reason, started: Date(), seconds: 0, counts: MirrorCounts(), failures: [], error: "\(error)"))
        }
    }

    private func perform(_ rule: ReplicationRule, reason: String) async -> ReplicationRun {
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
        return run
    }

    /// The run did not happen here (another node's turn).
    private func skip(_ rule: ReplicationRule, retryIn delay: Duration?) {
        if let delay { retries[rule.name] = (.now + delay, retries[rule.name]?.delay ?? .milliseconds(2_500)) }
        running.remove(rule.name)
        if let reason = queued.removeValue(forKey: rule.name) { trigger(rule.name, reason: reason) }
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
