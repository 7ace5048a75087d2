public import Crypto
public import Foundation

/// Seals secrets that Kura must be able to read again (webhook secrets, remote registry
/// passwords) with AES-GCM: `nonce ‖ ciphertext ‖ tag`. Where the key comes from is the
/// caller's business; the sealing is the same everywhere.
public struct SecretSealer: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// The raw key, for a key kept in a file.
    public init(keyData: Data) {
        key = SymmetricKey(data: keyData)
    }

    public func seal(_ secret: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: key).combined else {
            throw SealingError()
        }
        return combined
    }

    public func open(_ sealed: Data) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key)
    }

    /// AES-GCM produced no combined form (only with a nonce size other than the default).
    public struct SealingError: Error, CustomStringConvertible {
        public var description: String { "cannot seal the secret" }
    }
}
