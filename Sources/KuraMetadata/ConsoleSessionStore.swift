public import Foundation

/// A signed-in console session as the catalog keeps it, so every node behind a balancer
/// knows it. The browser's cookie holds the id; the catalog holds only its SHA-256, so a
/// copy of the catalog signs nobody in.
public struct ConsoleSessionRecord: Sendable, Hashable {
    /// SHA-256 of the cookie's id, lowercase hex.
    public var idHash: String
    public var keyID: String
    /// The synchroniser token every form of this session carries.
    public var csrfToken: String
    public var createdAt: Date
    /// Updated at most once a minute or so (see the console's sessions), not per request.
    public var lastSeenAt: Date

    public init(idHash: String, keyID: String, csrfToken: String, createdAt: Date, lastSeenAt: Date) {
        self.idHash = idHash
        self.keyID = keyID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// The console's sessions in the catalog (part of ``AccessStore``).
public protocol ConsoleSessionStore: Sendable {
    func createConsoleSession(_ session: ConsoleSessionRecord) async throws
    func consoleSession(idHash: String) async throws -> ConsoleSessionRecord?
    /// Moves `lastSeenAt` forward (never back); false when the session is gone.
    @discardableResult func touchConsoleSession(idHash: String, at time: Date) async throws -> Bool
    @discardableResult func deleteConsoleSession(idHash: String) async throws -> Bool
    /// Removes the sessions last seen before `idleBefore` or created before `createdBefore`.
    @discardableResult func deleteConsoleSessions(lastSeenBefore idleBefore: Date, createdBefore: Date) async throws -> Int
    func consoleSessionCount() async throws -> Int
}

extension Catalog {
    /// The console's sessions, kept with the access tables.
    public var consoleSessions: any ConsoleSessionStore { access }
}
