package import KuraMirror
import ServiceLifecycle

/// Ticks the replicator every second inside `kura serve` (scheduled runs and retries that
/// are due start then); stops on graceful shutdown.
package struct ReplicationScheduler: Service {
    let replicator: Replicator

    package init(replicator: Replicator) {
        self.replicator = replicator
    }

    package func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                return
            }
            await replicator.tick()
        }
    }
}
