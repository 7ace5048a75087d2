package import Logging
import ServiceLifecycle
import UnixSignals

/// Keeps TLS listeners' certificates fresh inside `kura serve`: polls the PEM files every
/// `interval` and, when asked, reloads on SIGHUP. Connections are never dropped; only new
/// handshakes see the new certificate.
package struct CertificateReloader: Service {
    let stores: [(listener: String, store: TLSCertificateStore)]
    let interval: Duration
    let reloadOnSIGHUP: Bool
    let logger: Logger
    /// Paces the polls (a test's manual clock).
    let clock: any Clock<Duration>

    package init(
        stores: [(listener: String, store: TLSCertificateStore)], interval: Duration, reloadOnSIGHUP: Bool, logger: Logger,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.stores = stores
        self.interval = interval
        self.reloadOnSIGHUP = reloadOnSIGHUP
        self.logger = logger
        self.clock = clock
    }

    package func run() async throws {
        await withDiscardingTaskGroup { group in
            if reloadOnSIGHUP {
                group.addTask {
                    let signals = await UnixSignalsSequence(trapping: .sighup)
                    for await _ in signals.cancelOnGracefulShutdown() {
                        reloadAll(force: true)
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { return }
                    reloadAll(force: false)
                }
            }
        }
    }

    private func reloadAll(force: Bool) {
        for (listener, store) in stores {
            do {
                let changed = force ? try store.reload() : try store.reloadIfChanged()
                if changed {
                    logger.notice("TLS certificate reloaded", metadata: ["listener": "\(listener)", "sha256": "\(store.fingerprint)"])
                }
            } catch {
                logger.error("TLS certificate not reloaded; still serving the previous one", metadata: ["listener": "\(listener)", "error": "\(error)"])
            }
        }
    }
}
