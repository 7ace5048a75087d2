import Foundation
public import KuraMetadata

extension AccessAdmin {
    /// The longest webhook secret accepted.
    public static let maximumWebhookSecretBytes = 1024

    private var webhookStore: any WebhookStore { registry.catalog.webhooks }

    /// A namespace's webhooks (managers of the namespace). Secrets stay sealed; callers show
    /// none of them.
    public func webhooks(_ caller: Caller, namespace: String) async throws -> [WebhookRecord] {
        try await requireNamespaceManager(caller, namespace)
        return try await webhookStore.webhooks(namespace: namespace)
    }

    /// Adds a webhook to a namespace: `url` (http or https) receives a signed JSON POST for
    /// each of `events`.
    public func createWebhook(
        _ caller: Caller, namespace: String, url: String, secret: String, events: Set<WebhookEvent>
    ) async throws -> WebhookRecord {
        try await requireNamespaceManager(caller, namespace)
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            parsed.host?.isEmpty == false
        else { throw AdminError.invalid("url must be an http or https URL with a host") }
        guard !secret.isEmpty, secret.utf8.count <= Self.maximumWebhookSecretBytes else {
            throw AdminError.invalid("secret must be 1 to \(Self.maximumWebhookSecretBytes) bytes")
        }
        guard !events.isEmpty else { throw AdminError.invalid("events must name at least one of push, delete, pull, job") }
        let record = WebhookRecord(
            id: "wh_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), namespace: namespace, url: url,
            sealedSecret: try access.webhookSecrets.seal(secret), events: events)
        try await webhookStore.createWebhook(record)
        await audit(caller, "webhook.create", namespace: namespace, detail: "\(record.id) \(url)")
        return record
    }

    public func deleteWebhook(_ caller: Caller, namespace: String, id: String) async throws {
        try await requireNamespaceManager(caller, namespace)
        guard try await webhookStore.deleteWebhook(id: id, namespace: namespace) else {
            throw AdminError.notFound("namespace \(namespace) has no webhook \(id)")
        }
        await audit(caller, "webhook.delete", namespace: namespace, detail: id)
    }
}
