import Foundation
import Hummingbird
import KuraAccess
import KuraMetadata

extension AdminAPI {
    /// `GET|POST namespaces/NAME/webhooks`, `DELETE namespaces/NAME/webhooks/ID`. Secrets
    /// go in, never out.
    func registerWebhooks(on api: RouterGroup<KuraRequestContext>) {
        api.get("namespaces/:name/webhooks") { r, c in
            await handle(r, c) { caller, _ in
                try encode(await admin.webhooks(caller, namespace: try c.parameters.require("name")).map(WebhookView.init))
            }
        }
        api.post("namespaces/:name/webhooks") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["url", "secret", "events"])
                var events: Set<WebhookEvent> = []
                for name in try json.strings("events") ?? ["push", "delete"] {
                    guard let event = WebhookEvent(rawValue: name) else { throw AdminError.invalid("unknown event \(name): push, delete, pull, job or scan") }
                    events.insert(event)
                }
                let record = try await admin.createWebhook(
                    caller, namespace: try c.parameters.require("name"), url: try json.string("url"), secret: try json.string("secret"), events: events)
                webhooks?.invalidate()
                return (.created, try encode(WebhookView(record)).1)
            }
        }
        api.delete("namespaces/:name/webhooks/:id") { r, c in
            await handle(r, c) { caller, _ in
                try await admin.deleteWebhook(caller, namespace: try c.parameters.require("name"), id: try c.parameters.require("id"))
                webhooks?.invalidate()
                return try noContent()
            }
        }
    }
}

/// A webhook as the API shows it: never its secret.
struct WebhookView: Encodable {
    var id: String
    var namespace: String
    var url: String
    var events: [String]
    var createdAt: Date
    init(_ record: WebhookRecord) {
        id = record.id
        namespace = record.namespace
        url = record.url
        events = record.events.map(\.rawValue).sorted()
        createdAt = record.createdAt
    }
}
