import Foundation
package import KuraRegistry
package import Logging
import ServiceLifecycle

/// Runs retention and then garbage collection inside `kura serve` every `interval`, first
/// one interval after start. The catalog's job lease keeps it to one runner at a time across nodes: a node that
/// finds the lease held skips that round. Stops promptly on graceful shutdown.
package struct GarbageCollectionScheduler: Service {
    let registry: Registry
    let interval: Duration
    let options: GarbageCollectionOptions
    let logger: Logger
    /// Paces the runs (a test's manual clock).
    let clock: any Clock<Duration>

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
