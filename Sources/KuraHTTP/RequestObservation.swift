import KuraAccess
import KuraMetadata
import Synchronization

/// What a handler learns about its request that the ``RequestObserver`` reports once the
/// response is sent: the route pattern, the caller, and what to meter. Handlers reach it
/// through the task-local ``current``.
final class RequestObservation: Sendable {
    /// The metered target of a `/v2/` request.
    struct UsageTarget: Sendable {
        var namespace: String
        var repository: String
        var kind: UsageKind
    }

    struct Facts: Sendable {
        /// The route pattern (`/v2/{name}/manifests/{reference}`), not the raw path.
        var route: String?
        var account: String?
        var accessKeyID: String?
        var usage: UsageTarget?
        /// Body bytes counted while streaming, for requests without `Content-Length`.
        var countedBytesIn: Int64 = 0
        /// Response body bytes the connection accepted.
        var countedBytesOut: Int64 = 0
        /// Why the server answered 4xx/5xx (the rule, quota or limit), for the log line.
        /// Never a secret: error messages name accounts, key ids and repositories only.
        var reason: String?
    }

    private let facts = Mutex(Facts())

    @TaskLocal static var current: RequestObservation?

    func update(_ change: (inout Facts) -> Void) {
        facts.withLock { change(&$0) }
    }

    var snapshot: Facts { facts.withLock { $0 } }

    /// Records who is calling (account and access key id), for the log line and metering.
    func identify(_ principal: Principal) {
        update { facts in
            facts.account = principal.accountName
            facts.accessKeyID = principal.keyID
        }
    }
}
