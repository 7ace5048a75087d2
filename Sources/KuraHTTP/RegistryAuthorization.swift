import Hummingbird
import KuraAccess
import KuraCore
import KuraMetadata
import KuraRegistry

/// The caller of a `/v2/` request once authorised.
struct Caller: Sendable {
    var principal: Principal
    var sourceAddress: String?

    /// Open mode (no access control): everyone may do everything.
    var isOpen: Bool

    static func open(_ sourceAddress: String?) -> Caller { Caller(principal: .anonymous, sourceAddress: sourceAddress, isOpen: true) }

    /// Who the registry's events name for this caller.
    var eventActor: RegistryEvent.Actor {
        RegistryEvent.Actor(account: principal.accountName, accessKeyID: principal.keyID, sourceAddress: sourceAddress)
    }
}

/// A refused request: 401 with a challenge, 403, or 429.
struct AuthorizationFailure: Error {
    var error: RegistryError
    var headers: HTTPFields

    func response(isHead: Bool) -> Response {
        var headers = headers
        headers[.dockerDistributionAPIVersion] = "registry/2.0"
        return ErrorResponse.response(for: error, isHead: isHead, headers: headers)
    }
}

extension RegistryAPI {
    /// What an endpoint needs: a signed-in (or token-holding) caller, or an action on a
    /// repository.
    enum Requirement {
        case anyCaller
        case action(RegistryAction, RepositoryName)
    }

    static func requirement(_ endpoint: V2Endpoint, _ method: HTTPRequest.Method) -> Requirement {
        switch endpoint {
        case .base, .catalog: return .anyCaller
        case .tags(let name), .referrers(let name, _): return .action(.pull, name)
        case .manifest(let name, _), .blob(let name, _):
            switch method {
            case .put: return .action(.push, name)
            case .delete: return .action(.delete, name)
            default: return .action(.pull, name)
            }
        case .uploads(let name), .upload(let name, _): return .action(.push, name)
        }
    }

    /// Authenticates the request and checks it may do what the endpoint does.
    func authorize(_ endpoint: V2Endpoint, request: Request, origin: RequestOrigin) async throws -> Caller {
        let sourceAddress = origin.clientAddress
        guard let access else { return .open(sourceAddress) }
        let authenticator = RequestAuthenticator(access: access)
        let principal: Principal
        do {
            principal = try await authenticator.principal(of: request, sourceAddress: sourceAddress)
        } catch let failure as RequestAuthenticator.Failure {
            var headers: HTTPFields = [.wwwAuthenticate: authenticator.challenge(origin: origin, scope: nil, error: failure.challengeError)]
            if let retry = failure.retryAfter {
                headers[.retryAfter] = String(retry)
                throw AuthorizationFailure(error: RegistryError(.tooManyRequests, failure.message), headers: headers)
            }
            throw AuthorizationFailure(error: RegistryError(.unauthorized, failure.message), headers: headers)
        }
        let caller = Caller(principal: principal, sourceAddress: sourceAddress, isOpen: false)
        // Known before any refusal, so the request's log line says who was refused.
        RequestObservation.current?.identify(principal)
        switch Self.requirement(endpoint, request.method) {
        case .anyCaller:
            // The catalog needs an account; the base endpoint also answers anonymous tokens,
            // which is how clients pull from public namespaces.
            let hasToken = principal.tokenAccess != nil
            if principal.isAnonymous && !(hasToken && endpoint == .base) {
                let scope = endpoint == .catalog ? "registry:catalog:*" : nil
                throw AuthorizationFailure(
                    error: RegistryError(.unauthorized, "sign in to \(endpoint == .catalog ? "list repositories" : "use the registry")"),
                    headers: [.wwwAuthenticate: authenticator.challenge(origin: origin, scope: scope, error: hasToken ? "insufficient_scope" : nil)])
            }
        case .action(let action, let repository):
            let allowed = try await access.allowedActions(principal, on: repository, anonymousPull: anonymousPull)
            let mountSource = Self.mountSource(endpoint, request: request)
            if !allowed.contains(action) {
                var scope = AccessScope.repository(repository.value, action == .pull ? [.pull] : [.pull, action]).description
                // As distribution does: the scopes a mount needs, so a client that asks only for
                // what the challenge names gets a token that can mount.
                if let mountSource { scope += " " + AccessScope.repository(mountSource.value, [.pull]).description }
                // No credentials: 401, sign in. An anonymous token: 401 too, with
                // `insufficient_scope`. A token that lacks a scope the account holds: 403 with
                // `insufficient_scope` and the scope needed (RFC 6750 3.1), so the client gets a
                // new token (oras-py asks again only then). An account without the right:
                // refuse for good.
                let holdsToken = principal.tokenAccess != nil
                let accountMayDoIt =
                    holdsToken && !principal.isAnonymous
                    && principal.grantedActions(in: String(repository.firstComponent), isPublic: false).contains(action)
                if principal.isAnonymous {
                    throw AuthorizationFailure(
                        error: RegistryError(.unauthorized, "authentication required for \(action.rawValue) on \(repository)"),
                        headers: [.wwwAuthenticate: authenticator.challenge(origin: origin, scope: scope, error: holdsToken ? "insufficient_scope" : nil)])
                }
                if accountMayDoIt {
                    throw AuthorizationFailure(
                        error: RegistryError(.denied, "the token does not grant \(action.rawValue) on \(repository); request one for scope \(scope)"),
                        headers: [.wwwAuthenticate: authenticator.challenge(origin: origin, scope: scope, error: "insufficient_scope")])
                }
                // The rule that refused it, for the client and the request's log line.
                let namespace = String(repository.firstComponent)
                let rule = principal.role(in: namespace).map { "role \($0.rawValue) in namespace \(namespace) does not allow \(action.rawValue)" }
                    ?? "no role in namespace \(namespace)"
                throw AuthorizationFailure(
                    error: RegistryError(.denied, "\(principal.accountName ?? "caller") may not \(action.rawValue) \(repository): \(rule)"),
                    headers: [:])
            }
            if let mountSource, try await !access.allowedActions(principal, on: mountSource, anonymousPull: anonymousPull).contains(.pull),
                principal.tokenAccess != nil, !principal.isAnonymous,
                principal.grantedActions(in: String(mountSource.firstComponent), isPublic: false).contains(.pull)
            {
                // A token without pull on the mount's source, for an account that may pull
                // there: send the client for a token naming both, rather than an upload it
                // does not need. An account that may not pull there gets the upload session.
                let scopes = [AccessScope.repository(repository.value, [.pull, .push]), AccessScope.repository(mountSource.value, [.pull])]
                throw AuthorizationFailure(
                    error: RegistryError(.unauthorized, "authentication required for pull on \(mountSource)"),
                    headers: [
                        .wwwAuthenticate: authenticator.challenge(
                            origin: origin, scope: scopes.map(\.description).joined(separator: " "), error: "insufficient_scope")
                    ])
            }
            if action == .push, request.method == .post || request.method == .put, case .manifest = endpoint {
                try await access.ensureNamespace(for: repository, principal: principal)
            } else if action == .push, case .uploads = endpoint {
                try await access.ensureNamespace(for: repository, principal: principal)
            }
        }
        return caller
    }

    /// The `from` repository of a cross-repository mount (`POST …/uploads/?mount=&from=`).
    static func mountSource(_ endpoint: V2Endpoint, request: Request) -> RepositoryName? {
        guard case .uploads = endpoint, request.method == .post else { return nil }
        let query = request.uri.queryParameters
        guard query["mount"] != nil, let from = query["from"] else { return nil }
        return try? RepositoryName(parsing: String(from))
    }

    /// Whether the caller may read `repository` (mount sources, catalog entries).
    func callerCanPull(_ caller: Caller, _ repository: RepositoryName) async throws -> Bool {
        guard let access, !caller.isOpen else { return true }
        return try await access.canPull(caller.principal, repository)
    }

    /// Which repositories the caller's catalog shows (all, in open mode).
    func catalogFilter(_ caller: Caller) -> @Sendable (RepositoryName) async throws -> Bool {
        guard let access, !caller.isOpen else { return { _ in true } }
        return access.catalogFilter(caller.principal)
    }
}
