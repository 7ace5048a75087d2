import Crypto
public import Foundation
public import KuraMetadata
import Synchronization

/// The console's server-side sessions: a random id in the cookie, everything else in the
/// catalog (``ConsoleSessionStore``), so every node sharing the catalog knows every
/// session and a restart signs nobody out. A session ends when it has been idle for
/// `idleTimeout`, when it is `absoluteTimeout` old, at sign-out, or when its key or account
/// stops being usable (checked per request by ``Dashboard``).
public final class ConsoleSessions: Sendable {
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
    /// How stale a session's `lastSeenAt` may get before a request writes it: a page view
    /// reads the catalog, and writes only this often per session.
    public let touchInterval: TimeInterval
    private let store: any ConsoleSessionStore
    private let now: @Sendable () -> Date
    /// When expired sessions were last swept (at most once per touch interval).
    private let lastSweep = Mutex<Date?>(nil)

    /// `now` is the wall clock; tests pass one they move.
    public init(
        store: any ConsoleSessionStore, idleTimeout: TimeInterval = 30 * 60, absoluteTimeout: TimeInterval = 12 * 3600,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.touchInterval = min(60, idleTimeout / 10)
        self.now = now
    }

    /// Starts a session for a key that has just signed in (and sweeps expired ones).
    public func start(keyID: String) async throws -> Session {
        let time = now()
        try await sweep(at: time)
        let id = Self.randomToken()
        let session = Session(id: id, keyID: keyID, csrfToken: Self.randomToken(), createdAt: time, lastSeenAt: time)
        try await store.createConsoleSession(
            ConsoleSessionRecord(idHash: Self.hash(id), keyID: keyID, csrfToken: session.csrfToken, createdAt: time, lastSeenAt: time))
        return session
    }

    /// The live session with this id, marked as seen; `nil` (and removed) once expired.
    public func resume(_ id: String) async throws -> Session? {
        let idHash = Self.hash(id)
        guard let record = try await store.consoleSession(idHash: idHash) else { return nil }
        let time = now()
        if time.timeIntervalSince(record.lastSeenAt) >= idleTimeout || time.timeIntervalSince(record.createdAt) >= absoluteTimeout {
            try await store.deleteConsoleSession(idHash: idHash)
            return nil
        }
        if time.timeIntervalSince(record.lastSeenAt) >= touchInterval { try await store.touchConsoleSession(idHash: idHash, at: time) }
        return Session(id: id, keyID: record.keyID, csrfToken: record.csrfToken, createdAt: record.createdAt, lastSeenAt: time)
    }

    public func end(_ id: String) async throws {
        try await store.deleteConsoleSession(idHash: Self.hash(id))
    }

    public func count() async throws -> Int { try await store.consoleSessionCount() }

    private func sweep(at time: Date) async throws {
        let due = lastSweep.withLock { last in
            guard last.map({ time.timeIntervalSince($0) >= touchInterval }) ?? true else { return false }
            last = time
            return true
        }
        guard due else { return }
        try await store.deleteConsoleSessions(
            lastSeenBefore: time.addingTimeInterval(-idleTimeout), createdBefore: time.addingTimeInterval(-absoluteTimeout))
    }

    /// What the catalog keeps of an id: its SHA-256, hex.
    static func hash(_ id: String) -> String {
        SHA256.hash(data: Data(id.utf8)).map { String(format: "%02x", $0) }.joined()
    }

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
