import Crypto
public import Foundation

/// The console's server-side sessions: a random id in the cookie, everything else here.
/// A session ends when it has been idle for `idleTimeout`, when it is `absoluteTimeout`
/// old, at sign-out, or when its key or account stops being usable (checked per request
/// by ``Dashboard``). In memory, per node: a node that restarts signs everyone out.
public actor ConsoleSessions {
    public struct Session: Sendable {
        public var id: String
        public var keyID: String
        /// The synchroniser token every form of this session carries.
        public var csrfToken: String
        public var createdAt: Date
        public var lastSeenAt: Date
    }

    public let idleTimeout: TimeInterval
    public let absoluteTimeout: TimeInterval
    /// At most this many sessions; the least recently seen goes first.
    public let capacity: Int
    private let now: @Sendable () -> Date
    private var sessions: [String: Session] = [:]

    /// `now` is the wall clock; tests pass one they move.
    public init(
        idleTimeout: TimeInterval = 30 * 60, absoluteTimeout: TimeInterval = 12 * 3600, capacity: Int = 100_000,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.capacity = capacity
        self.now = now
    }

    /// Starts a session for a key that has just signed in.
    public func start(keyID: String) -> Session {
        let time = now()
        if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.lastSeenAt < $1.lastSeenAt }) {
            sessions[oldest.id] = nil
        }
        let session = Session(id: Self.randomToken(), keyID: keyID, csrfToken: Self.randomToken(), createdAt: time, lastSeenAt: time)
        sessions[session.id] = session
        return session
    }

    /// The live session with this id, marked as seen; `nil` (and forgotten) once expired.
    public func resume(_ id: String) -> Session? {
        guard var session = sessions[id] else { return nil }
        let time = now()
        if time.timeIntervalSince(session.lastSeenAt) >= idleTimeout || time.timeIntervalSince(session.createdAt) >= absoluteTimeout {
            sessions[id] = nil
            return nil
        }
        session.lastSeenAt = time
        sessions[id] = session
        return session
    }

    public func end(_ id: String) {
        sessions[id] = nil
    }

    public var count: Int { sessions.count }

    /// 32 random bytes, URL-safe base64.
    static func randomToken() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares tokens in time independent of where they differ.
    static func tokensMatch(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
