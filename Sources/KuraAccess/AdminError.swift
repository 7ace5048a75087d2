/// An error of the admin API: a short code, an HTTP status and a message for people.
public struct AdminError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var status: Int
    public var message: String
    /// For 429: the seconds to wait (`Retry-After`).
    public var retryAfterSeconds: Int?

    public init(code: String, status: Int, _ message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public static func invalid(_ message: String) -> AdminError { AdminError(code: "INVALID_REQUEST", status: 400, message) }
    public static func denied(_ message: String) -> AdminError { AdminError(code: "DENIED", status: 403, message) }
    public static func notFound(_ message: String) -> AdminError { AdminError(code: "NOT_FOUND", status: 404, message) }
    public static func conflict(_ message: String) -> AdminError { AdminError(code: "CONFLICT", status: 409, message) }
    public static func tooManyRequests(_ message: String, retryAfterSeconds: Int) -> AdminError {
        AdminError(code: "TOOMANYREQUESTS", status: 429, message, retryAfterSeconds: retryAfterSeconds)
    }

    public var description: String { "\(code): \(message)" }
}
