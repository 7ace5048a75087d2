extension DataFolder {
    /// A key a single node keeps in its data folder and nodes sharing a catalog keep in the
    /// catalog (under `name`), so that all of them hash, sign and seal alike.
    public struct SharedKey: Sendable, Hashable {
        public let name: String
        public let path: String
    }

    /// The HMAC key access-key secrets are hashed with.
    public var secretHashSharedKey: SharedKey { SharedKey(name: "secret-hash", path: secretHashKey) }
    /// The ES256 key tokens are signed with.
    public var tokenSigningSharedKey: SharedKey { SharedKey(name: "token-es256", path: tokenSigningKey) }
    /// The key replication passwords are sealed with.
    public var secretsSharedKey: SharedKey { SharedKey(name: "secrets", path: secretsKey) }

    /// Every key `kura catalog migrate` moves into a shared catalog.
    public var sharedKeys: [SharedKey] { [secretHashSharedKey, tokenSigningSharedKey, secretsSharedKey] }
}
