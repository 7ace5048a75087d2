import Foundation

extension ServerConfiguration {
    /// Where the catalog lives.
    public struct CatalogSettings: Sendable, Hashable {
        public enum Backend: Sendable, Hashable {
            /// `catalog.sqlite` in the data folder: one node.
            case sqlite
            /// A PostgreSQL database that any number of nodes share.
            case postgres(url: String, poolSize: Int)
        }

        public var backend: Backend = .sqlite
        /// How long this node remembers which manifest a tag or digest names (dropped on every
        /// node by the catalog's change feed; see docs/postgres.md). Zero: never, every
        /// manifest GET reads the catalog (no window at all between nodes).
        public var lookupCacheMilliseconds = 1000

        public init(backend: Backend = .sqlite) { self.backend = backend }
    }
}

extension ServerConfiguration.CatalogSettings: ConfigurationSection {
    public static let defaultPoolSize = 16

    public static var configurationKeys: [ConfigurationKey] {
        [
            .init("catalog.backend", default: "sqlite", "Where the catalog lives: sqlite (the data folder) or postgres."),
            .init(
                "catalog.url", default: nil, "postgres://user:password@host:port/database[?sslmode=disable|prefer|require] (backend postgres).",
                isSecret: true),
            .init("catalog.poolSize", default: "\(defaultPoolSize)", "Most connections this node opens to PostgreSQL."),
            .init(
                "catalog.lookupCacheMilliseconds", default: "1000",
                "How long a node remembers a tag's or digest's manifest, 0 to 1000 (0: read the catalog every time)."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init()
        let poolSize = try settings.int("catalog.poolSize", in: 1...1000, meaning: "between 1 and 1000")
        lookupCacheMilliseconds = try settings.int("catalog.lookupCacheMilliseconds", in: 0...1000, meaning: "between 0 and 1000")
        switch try settings.string("catalog.backend") {
        case "sqlite":
            backend = .sqlite
        case "postgres", "postgresql":
            guard let url = try settings.text("catalog.url"), !url.isEmpty else {
                throw ConfigurationError(key: "catalog.url", "is required with catalog.backend postgres")
            }
            guard let scheme = URLComponents(string: url)?.scheme, ["postgres", "postgresql"].contains(scheme),
                URLComponents(string: url)?.host?.isEmpty == false
            else {
                throw ConfigurationError(key: "catalog.url", "must be postgres://user:password@host:port/database")
            }
            backend = .postgres(url: url, poolSize: poolSize)
        case let other:
            throw ConfigurationError(key: "catalog.backend", "must be sqlite or postgres, not \(other)")
        }
    }
}
