import Foundation
import Hummingbird
import KuraAccess
import KuraCore
import NIOCore

/// The token endpoint of the Docker token flow: `GET /token?service=&scope=…` with Basic
/// credentials (or none, for public pulls), and the OAuth2 form `POST /token`.
struct TokenEndpoint: Sendable {
    let access: AccessControl
    /// Whether anonymous callers get tokens for public namespaces on this listener.
    var anonymousPull = true

    func register(on router: Router<KuraRequestContext>) {
        router.get("/token") { request, context in
            // Repeated `scope` parameters, or several in one separated by spaces: a client
            // may pass a challenge's `scope` (space-separated for a mount) as it came, the
            // space often as `+`, which the query parser leaves as it is (no scope holds one).
            let scopes = request.uri.queryParameters[values: "scope"].flatMap { $0.split { $0 == " " || $0 == "+" } }.map(String.init)
            let service = request.uri.queryParameters["service"].map(String.init)
            return await issue(request: request, context: context, scopes: scopes, service: service, credentials: nil)
        }
        router.post("/token") { request, context in
            var request = request
            let body = (try? await request.collectBody(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            let form = Self.parseForm(body)
            let scopes = (form["scope"] ?? "").split(separator: " ").map(String.init)
            // The OAuth2 form (RFC 6749 4.3 and 6; Docker's token spec): errors are OAuth2's.
            switch form["grant_type"] ?? "" {
            case "password":
                guard let username = form["username"], !username.isEmpty, let password = form["password"] else {
                    return OAuthError.invalidRequest("username and password are required for grant_type=password").response
                }
                return await issue(request: request, context: context, scopes: scopes, service: form["service"], credentials: (username, password))
            case "refresh_token":
                // Kura hands out no refresh tokens, so no refresh token is one it knows.
                guard let token = form["refresh_token"], !token.isEmpty else {
                    return OAuthError.invalidRequest("refresh_token is required for grant_type=refresh_token").response
                }
                RequestObservation.current?.update { $0.reason = "unknown refresh token" }
                return OAuthError(status: .badRequest, code: "invalid_grant", description: "unknown refresh token").response
            case "":
                return OAuthError.invalidRequest("grant_type is required (password or refresh_token)").response
            case let other:
                return OAuthError(status: .badRequest, code: "unsupported_grant_type", description: "grant_type \(other) is not supported").response
            }
        }
    }

    /// Issues a token. `credentials` come from the OAuth2 form (POST), whose failures are
    /// OAuth2 errors; without them (GET) the caller is read from `Authorization` and failures
    /// are registry errors with a Basic challenge.
    private func issue(
        request: Request, context: KuraRequestContext, scopes: [String], service: String?, credentials: (String, String)?
    ) async -> Response {
        let isForm = credentials != nil
        if let service, service != access.tokens.service {
            if isForm { return OAuthError.invalidRequest("unknown service \(service)").response }
            return error(RegistryError(.denied, "unknown service \(service)", status: 400))
        }
        let principal: Principal
        do {
            if let (id, secret) = credentials {
                principal = try await access.authenticate(keyID: id, secret: secret, sourceAddress: context.sourceAddress)
            } else {
                principal = try await RequestAuthenticator(access: access).principal(of: request, sourceAddress: context.sourceAddress)
            }
        } catch let failure as RequestAuthenticator.Failure {
            if let retry = failure.retryAfter {
                return error(RegistryError(.tooManyRequests, failure.message), headers: [.retryAfter: String(retry)])
            }
            return error(RegistryError(.unauthorized, failure.message), headers: [.wwwAuthenticate: "Basic realm=\"kura\""])
        } catch AccessControl.AuthenticationError.rateLimited(let retry) {
            if isForm {
                var response = OAuthError(status: .tooManyRequests, code: "invalid_grant", description: "too many failed logins; retry later").response
                response.headers[.retryAfter] = String(retry)
                return response
            }
            return error(RegistryError(.tooManyRequests, "too many failed logins"), headers: [.retryAfter: String(retry)])
        } catch {
            // RFC 6749 5.2: wrong resource owner credentials are an invalid grant.
            if isForm { return OAuthError(status: .badRequest, code: "invalid_grant", description: "invalid access key id or secret key").response }
            return self.error(RegistryError(.unauthorized, "invalid access key id or secret key"), headers: [.wwwAuthenticate: "Basic realm=\"kura\""])
        }
        // A bearer token cannot be traded for another one.
        if principal.tokenAccess != nil {
            return error(RegistryError(.unauthorized, "use access key credentials to obtain a token"))
        }
        do {
            let requested = scopes.flatMap { text in
                // Several scopes may share one parameter, separated by spaces.
                text.split(separator: " ").compactMap { AccessScope(parsing: String($0)) }
            }
            let granted = try await access.grantableScopes(principal, requested: requested, anonymousPull: anonymousPull)
            let token = try await access.tokens.issue(account: principal.accountName ?? "", keyID: principal.keyID, access: granted)
            struct Body: Encodable {
                var token: String
                var access_token: String
                var expires_in: Int
                var issued_at: String
            }
            // The format style is Swift's own; `ISO8601DateFormatter` set up an ICU calendar
            // on every token.
            let issued = Date().formatted(.iso8601)
            let body = try JSONEncoder.stable.encode(
                Body(token: token, access_token: token, expires_in: Int(access.tokens.lifetime), issued_at: issued))
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        } catch {
            return self.error(RegistryError(.internalError, "cannot issue a token"))
        }
    }

    private func error(_ error: RegistryError, headers: HTTPFields = [:]) -> Response {
        ErrorResponse.response(for: error, isHead: false, headers: headers)
    }

    static func parseForm(_ body: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if let key = parts.first { result[key] = parts.count > 1 ? parts[1] : "" }
        }
        return result
    }
}
