import KuraAccess
package import KuraHTTP
import KuraMirror

/// What the console shares with the APIs of its listener: the request-rate buckets (one
/// budget per source address, taken before any work, and one per access key once the
/// session names it, so a browser cannot get round a limit the key has on `/v2/`), the
/// webhook dispatcher (told when webhooks change) and the replicator.
extension Dashboard {
    /// This console, sharing `components`' rate limits, webhooks and replication.
    package func sharing(_ components: ListenerRouter.Components) -> Dashboard {
        var copy = self
        copy.rateLimiter = components.rateLimiter
        copy.webhooks = components.webhooks
        copy.replicator = components.replicator
        return copy
    }

    /// Throws 429 with the seconds to wait when the caller's bucket is empty.
    func admit(address: String?, keyID: String?) throws {
        guard let rateLimiter, let wait = rateLimiter.admit(address: address, keyID: keyID) else { return }
        throw AdminError.tooManyRequests("request rate limit reached; retry in \(wait) s", retryAfterSeconds: wait)
    }
}
