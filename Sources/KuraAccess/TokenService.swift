public import Foundation
import JWTKit

/// Issues and verifies the registry's bearer tokens: short-lived ES256 JWTs in the format of
/// the Docker token specification (`access: [{type, name, actions}]`).
public final class TokenService: Sendable {
    /// The claims of a Kura token.
    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim
        var iat: IssuedAtClaim
        var jti: IDClaim
        var access: [AccessScope]
        /// The access key the token was issued to (audit trail). Not `kid`: that names the
        /// signing key, in the header.
        var accessKeyID: String?

        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, exp, nbf, iat, jti, access
            case accessKeyID = "access_key_id"
        }

        func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
            try nbf.verifyNotBefore()
        }
    }

    /// A verified token's contents.
    public struct Verified: Sendable {
        public var account: String
        public var keyID: String?
        public var access: [AccessScope]
    }

    public let issuer: String
    public let service: String
    public let lifetime: TimeInterval
    private let keys: JWTKeyCollection
    private let signingKeyID: String

    /// - Parameters:
    ///   - privateKeyPEM: the ES256 signing key (PEM), kept in the data folder.
    ///   - service: the `service` of the challenge and the tokens' audience.
    public init(privateKeyPEM: String, issuer: String = "kura", service: String = "kura", lifetime: TimeInterval = 300) async throws {
        let key = try ES256PrivateKey(pem: privateKeyPEM)
        self.issuer = issuer
        self.service = service
        self.lifetime = lifetime
        self.signingKeyID = "kura-es256"
        // Integer NumericDate claims (`iat: 1796024010`, not `1796024010.65`).
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .integerSecondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        self.keys = JWTKeyCollection(defaultJWTSerializer: DefaultJWTSerializer(jsonEncoder: encoder))
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: signingKeyID))
    }

    /// A new signing key, as PEM.
    public static func generatePrivateKeyPEM() -> String {
        ES256PrivateKey().pemRepresentation
    }

    /// Signs a token for `account` carrying exactly `access`.
    public func issue(account: String, keyID: String?, access: [AccessScope], now: Date = Date()) async throws -> String {
        // NumericDate is whole seconds for strict JWT libraries (RFC 7519 allows fractions,
        // many parsers refuse them).
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = Claims(
            iss: IssuerClaim(value: issuer), sub: SubjectClaim(value: account), aud: AudienceClaim(value: service),
            exp: ExpirationClaim(value: now.addingTimeInterval(lifetime)), nbf: NotBeforeClaim(value: now.addingTimeInterval(-5)),
            iat: IssuedAtClaim(value: now), jti: IDClaim(value: UUID().uuidString), access: access, accessKeyID: keyID)
        return try await keys.sign(claims, kid: JWKIdentifier(string: signingKeyID))
    }

    /// Verifies signature, expiry, issuer and audience. Throws on anything wrong.
    public func verify(_ token: String) async throws -> Verified {
        let claims = try await keys.verify(token, as: Claims.self)
        guard claims.iss.value == issuer else { throw JWTError.claimVerificationFailure(failedClaim: claims.iss, reason: "wrong issuer") }
        try claims.aud.verifyIntendedAudience(includes: service)
        return Verified(account: claims.sub.value, keyID: claims.accessKeyID, access: claims.access)
    }
}
