import KuraCore
import AsyncHTTPClient
import NIOCore

/// An S3 error response: the status and, when the body said, S3's error code and message.
struct S3ResponseError: Error, Sendable, CustomStringConvertible {
    var status: Int
    var code: String
    var message: String
    var operation: String

    /// Worth another attempt: a server fault (5xx), throttling, or S3 telling us to retry.
    var isTransient: Bool {
        status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" || code == "InternalError"
            || code == "ServiceUnavailable"
    }

    var description: String {
        "S3 \(operation): HTTP \(status)\(code.isEmpty ? "" : " \(code)")\(message.isEmpty ? "" : ": \(message)")"
    }
}

/// Retries with full-jitter exponential backoff.
///
/// A request is retried when it failed in transit (connection refused or reset, timeout,
/// a closed connection) or S3 answered with a 5xx, 429 or `SlowDown`. A request whose body
/// cannot be sent again (a streamed body that was already consumed) is never retried: the
/// caller marks such attempts as not replayable. When the attempts run out, the error
/// becomes ``StorageError/unavailable(_:)``; a client error (4xx) is not retried and becomes
/// ``StorageError/backend(_:)`` (or `notFound` where the caller maps a 404).
struct S3RetryPolicy: Sendable {
    var maxAttempts: Int
    var baseBackoff: Duration
    var maxBackoff: Duration

    /// The delay before attempt `attempt + 1` (attempts count from 1).
    func delay(after attempt: Int) -> Duration {
        JitteredBackoff(base: baseBackoff, maximum: maxBackoff).delay(after: attempt)
    }

    /// Whether `error` (from one attempt) is worth another.
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let e as S3ResponseError: return e.isTransient
        case is CancellationError: return false
        case let e as StorageError:
            if case .unavailable = e { return true }
            return false
        case let e as HTTPClientError:
            // A URL we could not build is not transient; everything about the connection is.
            return e != .invalidURL && e != .emptyHost && e != .emptyScheme && e != .cancelled
        default:
            // NIO connection errors (ECONNREFUSED, ECONNRESET), timeouts, TLS failures.
            return true
        }
    }

    /// Runs `body` until it succeeds, fails permanently, or the attempts run out.
    func run<T: Sendable>(_ operation: String, replayable: Bool = true, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch {
                if error is CancellationError || Task.isCancelled { throw error }
                let transient = Self.isTransient(error)
                guard transient, replayable, attempt < maxAttempts else {
                    throw Self.storageError(error, operation: operation, attempts: attempt, transient: transient)
                }
                try await Task.sleep(for: delay(after: attempt))
                attempt += 1
            }
        }
    }

    static func storageError(_ error: any Error, operation: String, attempts: Int, transient: Bool) -> any Error {
        switch error {
        case let e as StorageError:
            if case .unavailable(let message) = e, attempts > 1 {
                return StorageError.unavailable("\(message) (after \(attempts) attempts)")
            }
            return e
        case let e as S3ResponseError:
            if transient { return StorageError.unavailable("\(e) (after \(attempts) attempts)") }
            return StorageError.backend(e.description)
        default:
            if transient { return StorageError.unavailable("S3 \(operation): \(error) (after \(attempts) attempts)") }
            return error
        }
    }
}
