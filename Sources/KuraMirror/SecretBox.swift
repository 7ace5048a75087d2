import Crypto
public import Foundation
import KuraCore
import KuraAccess

/// Seals secrets for storage (``SecretSealer``, AES-256-GCM) under a key kept in the data folder
/// (`secrets.key`, created on first use, owner-only). A stolen rules file alone reveals no
/// password; the key file must be taken too.
public struct SecretBox: Sendable {
    private let sealer: SecretSealer

    /// Opens (or creates) the key file `secrets.key` in `directory`.
    public init(directory: String) throws {
        let path = DataFolder(directory).secretsKey
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw MirrorError.invalidArgument("\(path) is not a 256-bit key") }
            sealer = SecretSealer(keyData: data)
            return
        }
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw MirrorError.invalidArgument("cannot create \(path)")
        }
        sealer = SecretSealer(keyData: bytes)
    }

    /// Over a key held elsewhere (the catalog nodes share), 256 bits.
    public init(keyData: Data) throws {
        guard keyData.count == 32 else { throw MirrorError.invalidArgument("the sealing key is not 256 bits") }
        sealer = SecretSealer(keyData: keyData)
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)`.
    public func seal(_ secret: String) throws -> String {
        try sealer.seal(secret).base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw MirrorError.invalidArgument("a sealed secret is not base64") }
        return String(decoding: try sealer.open(data), as: UTF8.self)
    }
}
