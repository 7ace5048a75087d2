public import Configuration

/// Where `kura serve`'s settings come from, lowest precedence first: the YAML file, then
/// `KURA_*` environment variables (one per key, see ``ConfigurationKey/environmentVariable``,
/// and the older short names in ``legacyEnvironmentNames``), then command-line flags.
public struct ConfigurationSources: Sendable {
    /// Named providers, lowest precedence first.
    public var layers: [(name: String, provider: any ConfigProvider)]
    /// The process environment, for settings that fall back to other variables (S3's
    /// `AWS_*` credentials).
    public var environment: [String: String]

    public init(layers: [(name: String, provider: any ConfigProvider)], environment: [String: String] = [:]) {
        self.layers = layers
        self.environment = environment
    }

    /// Variables that predate the one-rule names and still work, mapped to their key.
    /// `KURA_ACCESS_LOG` ("off", "stdout" or a file) is read by ``AccessLogSettings``.
    public static let legacyEnvironmentNames: [String: String] = [
        "KURA_DATA_DIR": "dataDirectory",
        "KURA_MAX_MANIFEST_BYTES": "limits.maxManifestBytes",
        "KURA_MAX_BLOB_BYTES": "limits.maxBlobBytes",
        "KURA_REQUESTS_PER_MINUTE_PER_KEY": "limits.requestsPerMinutePerKey",
        "KURA_REQUESTS_PER_MINUTE_PER_ADDRESS": "limits.requestsPerMinutePerAddress",
        "KURA_AUTO_CREATE_NAMESPACES": "access.autoCreateNamespaces",
        "KURA_IDLE_TIMEOUT_SECONDS": "connections.idleTimeoutSeconds",
        "KURA_REQUEST_HEAD_TIMEOUT_SECONDS": "connections.requestHeadTimeoutSeconds",
        "KURA_BODY_TIMEOUT_SECONDS": "connections.bodyTimeoutSeconds",
        "KURA_MAX_CONNECTIONS_PER_ADDRESS": "connections.maxPerAddress",
    ]

    /// The file (when given), the environment, and flags already turned into keys
    /// (`["listen": "127.0.0.1:0"]`).
    public static func serve(file: String?, environment: [String: String], flags: [String: String] = [:]) throws -> ConfigurationSources {
        var layers: [(name: String, provider: any ConfigProvider)] = []
        if let file { layers.append(("file", try YAMLConfigurationFile.provider(path: file))) }
        var legacy: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, key) in legacyEnvironmentNames {
            if let value = environment[name] { legacy[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(.string(value), isSecret: false) }
        }
        if let accessLog = environment["KURA_ACCESS_LOG"] {
            legacy[["accessLog", "enabled"]] = ConfigValue(.string(accessLog == "off" ? "false" : "true"), isSecret: false)
            if accessLog != "off" { legacy[["accessLog", "path"]] = ConfigValue(.string(accessLog), isSecret: false) }
        }
        layers.append(("environment (short names)", InMemoryProvider(name: "legacy environment", values: legacy)))
        layers.append(("environment", EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "kura")))
        layers.append(("flags", strings(flags, name: "flags")))
        return ConfigurationSources(layers: layers, environment: environment)
    }

    /// A layer of string values by dotted key (tests, flags).
    public static func strings(_ values: [String: String], name: String) -> InMemoryProvider {
        var converted: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in values { converted[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(.string(value), isSecret: false) }
        return InMemoryProvider(name: name, values: converted)
    }
}
