import Foundation
import KuraRegistry
import Logging
import ServiceLifecycle

/// Runs retention and then garbage collection inside `kura serve` every `interval`, first
/// one interval after start. The catalog's job lease keeps it to one runner at a time across nodes: a node that
/// finds the lease held skips that round. Stops promptly on graceful shutdown.
struct GarbageCollectionScheduler: Service {
    let registry: Registry
    let interval: Duration
    let options: GarbageCollectionOptions
    let logger: Logger
    /// Told when a run finishes (the `job` webhook event).
    var webhooks: WebhookDispatcher? = nil

    func run() async throws {
        while !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
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
                webhooks?.emit(
                    .init(
                        event: .job, job: "gc",
                        summary: [
                            "run": summary.runID, "blobsFreed": Int64(summary.blobsFreed), "bytesFreed": summary.bytesFreed,
                            "manifestsDeleted": Int64(summary.manifestsDeleted), "uploadsExpired": Int64(summary.uploadsExpired),
                        ]))
            } catch JobError.locked(let name) {
                logger.info("garbage collection skipped: another runner holds the lease", metadata: ["lease": "\(name)"])
            } catch {
                logger.error("garbage collection failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private var isShuttingDown: Bool { Task.isShuttingDownGracefully }
}
