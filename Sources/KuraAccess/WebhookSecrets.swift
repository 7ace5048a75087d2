import Crypto
import Foundation

/// Webhook secrets: sealed (AES-GCM, with a key derived from the server key) before they
/// reach the catalog, and opened only to sign a delivery.
public struct WebhookSecrets: Sendable {
    private let sealer: SecretSealer

    init(hasher: SecretHasher) {
        sealer = SecretSealer(key: hasher.derivedKey(purpose: "kura webhook secrets v1"))
    }

    func seal(_ secret: String) throws -> [UInt8] {
        do { return Array(try sealer.seal(secret)) } catch {
            throw AdminError(code: "INTERNAL_ERROR", status: 500, "cannot seal the webhook secret")
        }
    }

    /// `sha256=<hex>`: the HMAC-SHA256 of `body` with the webhook's secret, as sent in the
    /// `Kura-Signature` header.
    public func signature(of body: [UInt8], sealedSecret: [UInt8]) throws -> String {
        let secret = try sealer.open(Data(sealedSecret))
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }
}

extension AccessControl {
    /// Seals and opens webhook secrets with this server's key.
    public var webhookSecrets: WebhookSecrets { WebhookSecrets(hasher: hasher) }
}
