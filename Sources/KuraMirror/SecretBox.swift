import Crypto
import Foundation

/// Seals secrets for storage with AES-256-GCM under a key kept in the data folder
/// (`secrets.key`, created on first use, owner-only). A stolen rules file alone reveals no
/// password; the key file must be taken too.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// Opens (or creates) the key file `secrets.key` in `directory`.
    public init(directory: String) throws {
        let path = "\(directory)/secrets.key"
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw MirrorError.invalidArgument("\(path) is not a 256-bit key") }
            key = SymmetricKey(data: data)
            return
        }
        let fresh = SymmetricKey(size: .bits256)
        let bytes = fresh.withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw MirrorError.invalidArgument("cannot create \(path)")
        }
        key = fresh
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)`.
    public func seal(_ secret: String) throws -> String {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: key).combined else {
            throw MirrorError.invalidArgument("cannot seal a secret")
        }
        return combined.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw MirrorError.invalidArgument("a sealed secret is not base64") }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }
}
