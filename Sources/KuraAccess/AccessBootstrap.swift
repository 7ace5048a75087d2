public import Foundation
public import KuraCore
public import KuraMetadata
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The root account's first access key, shown once.
public struct RootCredentials: Sendable {
    public var accessKeyID: String
    public var secretKey: String
    /// Where a copy was written (0600).
    public var file: String
}

/// Prepares access control over a data folder: the secret-hashing key and the token signing
/// key (generated on first start, kept 0600 in `<data>/keys/`, or, with a catalog that
/// nodes share, in the catalog), and the root account.
public enum AccessBootstrap {
    /// Opens access control; on a catalog without accounts, creates root and its first key
    /// and returns them (the caller prints them once; they are never logged).
    public static func open(
        dataDirectory: String, store: any AccessStore, sharedKeys: (any SharedKeyStore)? = nil, autoCreateNamespaces: Bool = false,
        service: String = "kura", tokenLifetime: TimeInterval = 300, limiter: LoginRateLimiter = LoginRateLimiter(),
        changes: CatalogChangeFeed? = nil, logger: Logger
    ) async throws -> (AccessControl, RootCredentials?) {
        let folder = DataFolder(dataDirectory)
        try FileManager.default.createDirectory(
            atPath: folder.keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let hashKey = try await key(folder.secretHashSharedKey, shared: sharedKeys) { randomKey() }
        let signingKey = try await key(folder.tokenSigningSharedKey, shared: sharedKeys) {
            Data(TokenService.generatePrivateKeyPEM().utf8)
        }
        let tokens = try await TokenService(
            privateKeyPEM: String(decoding: signingKey, as: UTF8.self), service: service, lifetime: tokenLifetime)
        let access = AccessControl(
            store: store, hasher: SecretHasher(keyBytes: Array(hashKey)), tokens: tokens, limiter: limiter,
            autoCreateNamespaces: autoCreateNamespaces, changes: changes, logger: logger)

        guard try await store.accounts().isEmpty else { return (access, nil) }
        do {
            try await store.createAccount(Account(name: "root", isRoot: true, isAdmin: true))
        } catch AccessStoreError.duplicate {
            // Another node sharing the catalog made root first, and printed its key.
            return (access, nil)
        }
        let id = AccessKeyGenerator.newID()
        let secret = AccessKeyGenerator.newSecret()
        try await store.createKey(AccessKeyRecord(id: id, account: "root", secretHash: access.hasher.hash(secret)))
        let file = folder.rootCredentials
        try writePrivate(file, Data("access_key_id=\(id)\nsecret_key=\(secret)\n".utf8))
        await access.audit(AuditEvent(account: "root", accessKeyID: id, sourceAddress: nil, action: "account.create", detail: "root, first start"))
        return (access, RootCredentials(accessKeyID: id, secretKey: secret, file: file))
    }

    /// 256 random bits.
    public static func randomKey() -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The key in the file at `key.path` (made on first use), or with `shared` keys the one
    /// the catalog holds under `key.name`: the first node to start stores its own (the file's, when
    /// a one-node registry moves up to a shared catalog), and every node uses that one.
    public static func key(_ key: DataFolder.SharedKey, shared: (any SharedKeyStore)?, _ make: () -> Data) async throws -> Data {
        guard let shared else { return try readOrCreate(key.path, make) }
        let local = FileManager.default.contents(atPath: key.path).flatMap { $0.isEmpty ? nil : $0 }
        return Data(try await shared.sharedKey(key.name, orStore: Array(local ?? make())))
    }

    private static func readOrCreate(_ path: String, _ make: () -> Data) throws -> Data {
        if let existing = FileManager.default.contents(atPath: path), !existing.isEmpty { return existing }
        let data = make()
        try writePrivate(path, data)
        return data
    }

    /// Writes a file readable by its owner only, created with that mode (never briefly wider).
    private static func writePrivate(_ path: String, _ data: Data) throws {
        let temporary = path + ".tmp"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { Glibc.close(fd) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0, rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
