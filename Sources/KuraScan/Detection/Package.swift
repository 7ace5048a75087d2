/// A package found in an image.
public struct Package: Sendable, Hashable, Codable {
    public let name: String
    public let version: String
    public let ecosystem: Ecosystem
    /// For distribution packages: the source package advisories are written against
    /// (Debian's `libc6` comes from `glibc`), and its version when it differs.
    public let sourceName: String?
    public let sourceVersion: String?
    /// Index of the layer (0 at the bottom) whose file recorded the package.
    public let layerIndex: Int
    /// Where the package was recorded (the database or manifest file).
    public let path: String
    /// Package URL (https://github.com/package-url/purl-spec).
    public let purl: String

    public init(
        name: String, version: String, ecosystem: Ecosystem, sourceName: String? = nil, sourceVersion: String? = nil,
        layerIndex: Int, path: String, purl: String
    ) {
        self.name = name
        self.version = version
        self.ecosystem = ecosystem
        self.sourceName = sourceName
        self.sourceVersion = sourceVersion
        self.layerIndex = layerIndex
        self.path = path
        self.purl = purl
    }
}
