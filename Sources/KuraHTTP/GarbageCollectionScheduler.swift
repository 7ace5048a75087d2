import Foundation
package import KuraRegistry
package import Logging
import ServiceLifecycle

/// Runs retention and then garbage collection inside `kura serve` every `interval`, first
/// one interval after start. Nodes sharing a catalog run each round once: a node first
/// claims the round in the catalog (``JobLease/claimRound(_:job:owner:interval:)``) and
/// skips it when another node has claimed it within the last 90 % of an interval; the
/// catalog's maintenance lease then keeps any two jobs from overlapping. Stops promptly on
/// graceful shutdown.
package struct GarbageCollectionScheduler: Service {
    let registry: Registry
    let interval: Duration
    let options: GarbageCollectionOptions
    let logger: Logger
    /// Paces the runs (a test's manual clock).
    let clock: any Clock<Duration>
    /// This scheduler's name in the catalog's claims.
    let owner = JobLease.makeOwner()

    /// The collector announces each run (and what it deleted) through the registry's events.
    package init(
        registry: Registry, interval: Duration, options: GarbageCollectionOptions, logger: Logger, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.registry = registry
        self.interval = interval
        self.options = options
        self.logger = logger
        self.clock = clock
    }

    package func run() async throws {
        while !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            } catch {
                return  // shutdown (or cancellation) while waiting
            }
            if Task.isCancelled || isShuttingDown { return }
            do {
                let seconds = TimeInterval(interval.components.seconds) + TimeInterval(interval.components.attoseconds) / 1e18
                guard try await JobLease.claimRound(registry.catalog.collection, job: "maintenance", owner: owner, interval: seconds) else {
                    logger.info("scheduled retention and garbage collection skipped: another node ran this round")
                    continue
                }
                // Retention first, so the collection that follows frees what it untagged.
                let untagged = try await RetentionEvaluator(registry: registry).run(dryRun: false)
                if !untagged.isEmpty { logger.notice("retention deleted tags", metadata: ["tags": "\(untagged.count)"]) }
                let summary = try await GarbageCollector(registry: registry, options: options).run()
                logger.notice(
                    "garbage collection finished",
                    metadata: [
                        "run": "\(summary.runID)", "blobsFreed": "\(summary.blobsFreed)", "bytesFreed": "\(summary.bytesFreed)",
                        "manifestsDeleted": "\(summary.manifestsDeleted)", "uploadsExpired": "\(summary.uploadsExpired)",
                    ])
            } catch JobError.locked(let name) {
                logger.info("garbage collection skipped: another runner holds the lease", metadata: ["lease": "\(name)"])
            } catch {
                logger.error("garbage collection failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private var isShuttingDown: Bool { Task.isShuttingDownGracefully }
}
