import Metrics
import Synchronization

/// What an ``S3Backend`` has asked of its bucket: requests by S3 operation and the payload
/// bytes it sent.
///
/// Kept so that the cost of an operation can be shown, not guessed: a blob commit, for
/// instance, must send its bytes once and never `CopyObject`. The same counts go to
/// swift-metrics as `kura_s3_requests_total{operation}` and `kura_s3_sent_bytes_total`.
public final class S3RequestStatistics: Sendable {
    /// A snapshot of the counts.
    public struct Counts: Sendable, Hashable {
        /// Requests sent (every attempt, retries included), by S3 operation name
        /// (`PutObject`, `UploadPart`, `GetObject`, `HeadObject`, `CopyObject`…).
        public var requests: [String: Int] = [:]
        /// Request payload bytes sent (object data and XML bodies).
        public var bytesSent: Int64 = 0

        /// Requests of one operation.
        public subscript(operation: String) -> Int { requests[operation, default: 0] }

        /// Every request, of any operation.
        public var total: Int { requests.values.reduce(0, +) }

        /// What happened between `earlier` and this snapshot.
        public func since(_ earlier: Counts) -> Counts {
            var delta = Counts(bytesSent: bytesSent - earlier.bytesSent)
            for (operation, count) in requests where count != earlier[operation] {
                delta.requests[operation] = count - earlier[operation]
            }
            return delta
        }
    }

    private let counts = Mutex(Counts())

    public init() {}

    /// The counts so far.
    public var snapshot: Counts { counts.withLock { $0 } }

    func record(_ operation: String, bytesSent: Int) {
        counts.withLock {
            $0.requests[operation, default: 0] += 1
            $0.bytesSent += Int64(bytesSent)
        }
        Counter(label: "kura_s3_requests_total", dimensions: [("operation", operation)]).increment()
        if bytesSent > 0 { Counter(label: "kura_s3_sent_bytes_total").increment(by: bytesSent) }
    }
}
