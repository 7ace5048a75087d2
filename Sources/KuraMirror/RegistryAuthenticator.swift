import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Signs requests to one registry the way it asks to be signed: nothing until a `401`
/// arrives, then Basic credentials or bearer tokens from the Docker token flow (the realm
/// and service of the challenge, the request's scopes, Basic credentials or none for an
/// anonymous token). Tokens are kept per scope set until shortly before they expire.
actor RegistryAuthenticator {
    private let credentials: RegistryCredentials?
    private let http: HTTPClient
    private var challenge: AuthenticationChallenge?
    private var tokens: [String: (token: String, expires: ContinuousClock.Instant)] = [:]

    init(credentials: RegistryCredentials?, http: HTTPClient) {
        self.credentials = credentials
        self.http = http
    }

    /// The `Authorization` value for a request that needs `scopes`; nil when none is known
    /// to be needed yet.
    func authorization(for scopes: [String]) async throws -> String? {
        // Nothing is sent before the registry asks: the first request goes out anonymous
        // (public content needs no token) and its 401 says which scheme to use.
        guard let challenge else { return nil }
        switch challenge.scheme {
        case .basic:
            return credentials?.basicAuthorization
        case .bearer:
            let key = scopes.sorted().joined(separator: " ")
            if let cached = tokens[key], cached.expires > .now { return "Bearer \(cached.token)" }
            let (token, lifetime) = try await fetchToken(challenge, scopes: scopes)
            // Renew a little early, so a token does not expire between issue and use.
            tokens[key] = (token, .now + .seconds(Swift.max(5, lifetime - 10)))
            return "Bearer \(token)"
        }
    }

    /// Takes in the challenge of a 401. Returns whether another attempt could succeed
    /// (a new or changed challenge, or a token that may have gone stale).
    func challenged(by header: String?, scopes: [String]) -> Bool {
        guard let header, let parsed = AuthenticationChallenge(header: header) else { return false }
        let isNew = challenge?.scheme != parsed.scheme || challenge?.realm != parsed.realm
        challenge = parsed
        switch parsed.scheme {
        case .basic:
            return isNew && credentials != nil
        case .bearer:
            let key = scopes.sorted().joined(separator: " ")
            let hadToken = tokens.removeValue(forKey: key) != nil
            return isNew || hadToken
        }
    }

    private func fetchToken(_ challenge: AuthenticationChallenge, scopes: [String]) async throws -> (String, Int) {
        guard let realm = challenge.realm, var components = URLComponents(string: realm), components.host != nil else {
            throw MirrorError.unauthorized("bearer challenge without a usable realm")
        }
        var items = components.queryItems ?? []
        if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
        items += scopes.map { URLQueryItem(name: "scope", value: $0) }
        components.queryItems = items.isEmpty ? nil : items
        guard let url = components.string else { throw MirrorError.unauthorized("cannot build the token URL") }
        var request = HTTPClientRequest(url: url)
        if let credentials { request.headers.add(name: "Authorization", value: credentials.basicAuthorization) }
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw MirrorError.unauthorized("token endpoint answered \(response.status.code) \(OCIErrorBody.message(body))")
        }
        struct TokenBody: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
        }
        guard let decoded = try? JSONDecoder().decode(TokenBody.self, from: Data(body.readableBytesView)),
            let token = decoded.token ?? decoded.access_token, !token.isEmpty
        else { throw MirrorError.unauthorized("token endpoint sent no token") }
        // The distribution spec's default lifetime when none is given.
        return (token, decoded.expires_in ?? 60)
    }
}
