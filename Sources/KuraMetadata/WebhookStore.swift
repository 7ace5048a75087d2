public import Foundation

/// What a webhook can be told about.
public enum WebhookEvent: String, Sendable, Hashable, Codable, CaseIterable {
    /// A manifest pushed (with its tag, if any).
    case push
    /// A manifest or tag deleted.
    case delete
    /// A manifest pulled (GET); optional, as it is frequent.
    case pull
    /// A background job (garbage collection) finished.
    case job
    /// An image scan finished (its summary by severity).
    case scan
}

/// A webhook of a namespace. The secret is stored sealed (encrypted); only the sender opens it.
public struct WebhookRecord: Sendable, Hashable {
    public var id: String
    public var namespace: String
    public var url: String
    public var sealedSecret: [UInt8]
    public var events: Set<WebhookEvent>
    public var createdAt: Date

    public init(id: String, namespace: String, url: String, sealedSecret: [UInt8], events: Set<WebhookEvent>, createdAt: Date = Date()) {
        self.id = id
        self.namespace = namespace
        self.url = url
        self.sealedSecret = sealedSecret
        self.events = events
        self.createdAt = createdAt
    }
}

/// Webhooks in the catalog.
public protocol WebhookStore: Sendable {
    func createWebhook(_ webhook: WebhookRecord) async throws
    /// The webhooks of one namespace, or of all (`nil`), oldest first.
    func webhooks(namespace: String?) async throws -> [WebhookRecord]
    /// Deletes a namespace's webhook; `false` if it has none with that id.
    @discardableResult func deleteWebhook(id: String, namespace: String) async throws -> Bool
}
