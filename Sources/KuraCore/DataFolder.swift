/// The names of everything Kura keeps in its data folder, in one place.
public struct DataFolder: Sendable, Hashable {
    public let path: String

    public init(_ path: String) {
        self.path = path
    }

    /// The blob store of the filesystem backend.
    public var storage: String { "\(path)/storage" }
    /// The SQLite catalog.
    public var catalog: String { "\(path)/catalog.sqlite" }
    /// Root's first access key, written once (mode 0600).
    public var rootCredentials: String { "\(path)/root-credentials" }
    /// Keys of access control (mode 0700).
    public var keys: String { "\(path)/keys" }
    /// The HMAC key secrets are stored under.
    public var secretHashKey: String { "\(keys)/secret-hash.key" }
    /// The ES256 key tokens are signed with.
    public var tokenSigningKey: String { "\(keys)/token-es256.pem" }
    /// `--tls-self-signed`'s certificate and key.
    public var tls: String { "\(path)/tls" }
    public var selfSignedCertificate: String { "\(tls)/self-signed.crt" }
    public var selfSignedKey: String { "\(tls)/self-signed.key" }
    /// Replication rules as an older Kura kept them (moved into the catalog at start), and
    /// the record of their runs.
    public var replicationRules: String { "\(path)/replication-rules.json" }
    public var replicationRuns: String { "\(path)/replication-runs.jsonl" }
    /// The key replication passwords are sealed with.
    public var secretsKey: String { "\(path)/secrets.key" }
}
