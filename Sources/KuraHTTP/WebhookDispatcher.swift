import AsyncHTTPClient
import Foundation
package import KuraAccess
package import KuraMetadata
package import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Delivers webhook events: a bounded queue (the oldest events are dropped when it is full,
/// so a slow receiver never slows the registry), each delivery an HTTP POST of a JSON body
/// signed with `Kura-Signature: sha256=<hex HMAC>`, retried with exponential backoff until
/// a 2xx answer or the last attempt. Webhooks are read from the catalog and cached briefly.
package final class WebhookDispatcher: Service, Sendable {
    /// One event, as its JSON body shows it.
    struct Event: Sendable, Encodable {
        var id = UUID().uuidString.lowercased()
        var event: WebhookEvent
        var time = Date()
        var namespace: String?
        var repository: String?
        var reference: String?
        var digest: String?
        var account: String?
        var accessKeyID: String?
        /// For job events: the job's kind and its summary.
        var job: String?
        var summary: [String: Int64]?
        /// For scan events: why a scan failed.
        var detail: String?
    }

    package struct Settings: Sendable {
        var maxAttempts: Int
        var initialBackoff: Duration
        var timeout: Duration
        var queueCapacity: Int
        /// Deliveries in flight at once.
        var concurrency: Int

        package init(maxAttempts: Int, initialBackoff: Duration, timeout: Duration, queueCapacity: Int, concurrency: Int) {
            self.maxAttempts = maxAttempts
            self.initialBackoff = initialBackoff
            self.timeout = timeout
            self.queueCapacity = queueCapacity
            self.concurrency = concurrency
        }
    }

    private let store: any WebhookStore
    private let secrets: WebhookSecrets
    private let settings: Settings
    private let logger: Logger
    private let stream: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let cache = Mutex<(webhooks: [WebhookRecord], loadedAt: ContinuousClock.Instant)?>(nil)
    private static let cacheLifetime = Duration.seconds(10)
    /// Drops the cached webhooks when any node changes them (see ``CatalogChangeFeed``).
    private let feedSubscription = Mutex<CatalogFeedSubscription?>(nil)

    /// Paces retries (a test's manual clock).
    private let clock: any Clock<Duration>
    /// Events queued and not yet taken, plus deliveries under way (with their retries).
    private let pending = Mutex(0)

    package init(
        store: any WebhookStore, secrets: WebhookSecrets, settings: Settings, logger: Logger, clock: any Clock<Duration> = ContinuousClock(),
        changes: CatalogChangeFeed? = nil
    ) {
        self.clock = clock
        self.store = store
        self.secrets = secrets
        self.settings = settings
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(Swift.max(1, settings.queueCapacity)))
        let subscription = changes?.subscribe { [weak self] event in
            switch event {
            case .changed(let change) where change != .webhooks: break
            case .manifestsChanged: break
            default: self?.invalidate()
            }
        }
        feedSubscription.withLock { $0 = subscription }
    }

    /// Queues an event; returns at once. A pull is dropped here when the (fresh) cached
    /// webhooks want no pulls, so pulls cost next to nothing without subscribers.
    func emit(_ event: Event) {
        if event.event == .pull, let cached = cache.withLock({ $0 }), ContinuousClock.now - cached.loadedAt < Self.cacheLifetime,
            !cached.webhooks.contains(where: { $0.events.contains(.pull) })
        {
            return
        }
        pending.withLock { $0 += 1 }
        if case .dropped = continuation.yield(event) { pending.withLock { $0 -= 1 } }
    }

    /// Work not finished: events queued and deliveries under way, retries included. Zero
    /// when every event emitted so far has been delivered, given up or wanted by no webhook.
    package var pendingWork: Int { pending.withLock { $0 } }

    /// Forgets the cached webhooks (after an admin change on this node).
    package func invalidate() {
        cache.withLock { $0 = nil }
    }

    package func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await event in stream {
                    let targets: [WebhookRecord]
                    do { targets = try await subscribers(of: event) } catch {
                        logger.error("webhooks not read; event dropped", metadata: ["event": "\(event.event)", "error": "\(error)"])
                        pending.withLock { $0 -= 1 }
                        continue
                    }
                    // The event's unit of work becomes one per delivery.
                    pending.withLock { $0 += targets.count - 1 }
                    for webhook in targets {
                        if inFlight >= settings.concurrency {
                            await group.next()
                            inFlight -= 1
                        }
                        inFlight += 1
                        group.addTask {
                            await self.deliver(event, to: webhook)
                            self.pending.withLock { $0 -= 1 }
                        }
                    }
                }
                await group.waitForAll()
            }
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
    }

    /// The webhooks that want the event: those of its namespace, or any, for job events.
    private func subscribers(of event: Event) async throws -> [WebhookRecord] {
        let now = ContinuousClock.now
        var webhooks: [WebhookRecord]
        if let cached = cache.withLock({ $0 }), now - cached.loadedAt < Self.cacheLifetime {
            webhooks = cached.webhooks
        } else {
            webhooks = try await store.webhooks(namespace: nil)
            cache.withLock { $0 = (webhooks, now) }
        }
        webhooks.removeAll { !$0.events.contains(event.event) || (event.event != .job && $0.namespace != event.namespace) }
        return webhooks
    }

    private func deliver(_ event: Event, to webhook: WebhookRecord) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let body: [UInt8]
        let signature: String
        do {
            body = Array(try encoder.encode(event))
            signature = try secrets.signature(of: body, sealedSecret: webhook.sealedSecret)
        } catch {
            logger.error("webhook not signed", metadata: ["webhook": "\(webhook.id)", "error": "\(error)"])
            return
        }
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Kura-Webhooks")
        request.headers.add(name: "Kura-Event", value: event.event.rawValue)
        request.headers.add(name: "Kura-Delivery", value: event.id)
        request.headers.add(name: "Kura-Signature", value: signature)
        request.body = .bytes(ByteBuffer(bytes: body))
        var backoff = settings.initialBackoff
        for attempt in 1...Swift.max(1, settings.maxAttempts) {
            var failure: String
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(settings.timeout.components.seconds) * 1_000_000_000))
                _ = try? await response.body.collect(upTo: 64 << 10)
                if (200..<300).contains(response.status.code) { return }
                failure = "HTTP \(response.status.code)"
            } catch {
                failure = "\(error)"
            }
            guard attempt < settings.maxAttempts else {
                logger.warning(
                    "webhook delivery failed; giving up", metadata: ["webhook": "\(webhook.id)", "attempts": "\(attempt)", "error": "\(failure)"])
                return
            }
            logger.info("webhook delivery failed; retrying", metadata: ["webhook": "\(webhook.id)", "attempt": "\(attempt)", "error": "\(failure)"])
            do { try await clock.sleep(for: backoff) } catch { return }
            backoff = Swift.min(backoff * 2, .seconds(300))
        }
    }
}
