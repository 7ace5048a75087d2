import Hummingbird
import KuraAccess
import KuraCore
import KuraMetadata

extension RegistryAPI {
    /// Tells the request's observation who called and what to meter.
    func observe(_ endpoint: V2Endpoint, request: Request, caller: Caller, into observation: RequestObservation) {
        let isMount = request.method == .post && request.uri.queryParameters["mount"] != nil
        let kind = endpoint.usageKind(request.method, isMount: isMount)
        let repository = endpoint.repository
        observation.update { facts in
            facts.account = caller.principal.accountName
            facts.accessKeyID = caller.principal.keyID
            if let kind {
                facts.usage = .init(
                    namespace: repository.map { String($0.firstComponent) } ?? "", repository: repository?.value ?? "", kind: kind)
            }
        }
    }

    /// Refuses a request over its rate (per source address or per access key) with 429 and
    /// `Retry-After`.
    func admit(address: String?, keyID: String?) throws {
        guard let rateLimiter, let wait = rateLimiter.admit(address: address, keyID: keyID) else { return }
        throw AuthorizationFailure(
            error: RegistryError(.tooManyRequests, "request rate limit reached; retry in \(wait) s"), headers: [.retryAfter: String(wait)])
    }

    /// Queues the webhook event of a successful manifest push, delete or pull.
    func notify(_ webhooks: WebhookDispatcher, _ endpoint: V2Endpoint, request: Request, caller: Caller, response: Response) {
        guard case .manifest(let repository, let reference) = endpoint, (200..<300).contains(response.status.code) else { return }
        let event: WebhookEvent
        switch request.method {
        case .put: event = .push
        case .delete: event = .delete
        case .get: event = .pull
        default: return
        }
        webhooks.emit(
            .init(
                event: event, namespace: String(repository.firstComponent), repository: repository.value, reference: reference,
                // Every success answers with Docker-Content-Digest (a tag delete: the digest it held).
                digest: response.headers[.dockerContentDigest] ?? (reference.contains(":") ? reference : nil),
                account: caller.principal.accountName, accessKeyID: caller.principal.keyID))
    }
}
