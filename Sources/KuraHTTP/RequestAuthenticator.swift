import Foundation
import Hummingbird
import KuraAccess
import KuraCore

/// Reads the caller from a request's `Authorization` header (Basic with an access key, or a
/// bearer token) and builds the challenges that send a client to the token endpoint.
struct RequestAuthenticator: Sendable {
    let access: AccessControl

    /// An authentication failure, answered with 401 (or 429 when rate limited).
    struct Failure: Error {
        var message: String
        var retryAfter: Int?
        /// The challenge's `error` (RFC 6750): `invalid_token` for a bad or expired token.
        var challengeError: String? = nil
    }

    /// The principal of the request; anonymous without credentials.
    func principal(of request: Request, sourceAddress: String?) async throws -> Principal {
        guard let header = request.headers[.authorization] else { return .anonymous }
        if let (keyID, secret) = Self.basicCredentials(header) {
            do {
                return try await access.authenticate(keyID: keyID, secret: secret, sourceAddress: sourceAddress)
            } catch AccessControl.AuthenticationError.rateLimited(let seconds) {
                throw Failure(message: "too many failed logins; retry later", retryAfter: seconds)
            } catch AccessControl.AuthenticationError.invalidCredentials {
                throw Failure(message: "invalid access key id or secret key")
            }
        }
        if header.lowercased().hasPrefix("bearer ") {
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            do { return try await access.authenticate(token: token) } catch {
                throw Failure(message: "invalid or expired token", challengeError: "invalid_token")
            }
        }
        throw Failure(message: "unsupported Authorization scheme")
    }

    /// `Basic base64(id:secret)` → (id, secret).
    static func basicCredentials(_ header: String) -> (String, String)? {
        guard header.lowercased().hasPrefix("basic ") else { return nil }
        guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// `WWW-Authenticate: Bearer realm=…,service=…[,scope=…][,error=…]`, with the realm on the
    /// endpoint the client came in on. `error` is RFC 6750's: `invalid_token` (a bad or expired
    /// token) or `insufficient_scope` (a token without what `scope` names: get a new one).
    func challenge(origin: RequestOrigin, scope: String?, error: String? = nil) -> String {
        var value = "Bearer realm=\"\(origin.baseURL)/token\",service=\"\(access.tokens.service)\""
        if let scope { value += ",scope=\"\(scope)\"" }
        if let error { value += ",error=\"\(error)\"" }
        return value
    }
}
