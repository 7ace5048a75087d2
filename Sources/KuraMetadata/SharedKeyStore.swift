/// Keys every node of a cluster must hold alike (the HMAC key of access-key hashes, the
/// token signing key, the sealing key of replication passwords), kept in a catalog the nodes
/// share. A single node keeps them in its data folder instead (the catalog then has none).
public protocol SharedKeyStore: Sendable {
    /// The key stored under `name`; when there is none yet, `candidate` is stored and
    /// returned. Nodes starting together race to store theirs: one wins, every node gets
    /// the winner's.
    func sharedKey(_ name: String, orStore candidate: [UInt8]) async throws -> [UInt8]
}
