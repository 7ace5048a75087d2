public import KuraRegistry

/// Everything `kura serve` needs, with the embedded defaults: a SQLite catalog and a local
/// data folder, on 127.0.0.1:5000.
public struct ServerConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// Holds `storage/` (the blob store) and `catalog.sqlite`.
    public var dataDirectory: String
    public var limits: RegistryLimits
    /// How long a graceful shutdown waits for requests in flight.
    public var shutdownGraceSeconds: Int

    public init(
        host: String = "127.0.0.1", port: Int = 5000, dataDirectory: String = "./kura-data",
        limits: RegistryLimits = RegistryLimits(), shutdownGraceSeconds: Int = 30
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.limits = limits
        self.shutdownGraceSeconds = shutdownGraceSeconds
    }

    public var storageDirectory: String { "\(dataDirectory)/storage" }
    public var catalogPath: String { "\(dataDirectory)/catalog.sqlite" }
}
