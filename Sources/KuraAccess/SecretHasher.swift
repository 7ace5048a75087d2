import Crypto
import Foundation

/// Keyed hashes of access-key secrets (HMAC-SHA256 with a server key kept in the data
/// folder), so a stolen catalog does not reveal secrets and cannot be brute-forced offline
/// without the key. Verification is constant-time.
public struct SecretHasher: Sendable {
    private let key: SymmetricKey

    public init(keyBytes: [UInt8]) {
        key = SymmetricKey(data: keyBytes)
    }

    public func hash(_ secret: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(secret.utf8), using: key))
    }

    /// A key for another purpose derived from the server key (HKDF), so one key file
    /// serves them all without reusing the key itself.
    func derivedKey(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }

    /// Whether `secret` hashes to `expected`, comparing in constant time.
    public func verify(_ secret: String, against expected: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: Data(secret.utf8), using: key)
    }
}

/// New access key ids and secrets.
public enum AccessKeyGenerator {
    private static let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// `KURA` and 16 characters of base32: public, but unguessable.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "KURA" + String((0..<16).map { _ in idAlphabet[Int(generator.next() % UInt64(idAlphabet.count))] })
    }

    /// 40 characters of URL-safe base64 (240 bits of randomness).
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<30).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}
