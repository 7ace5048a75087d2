import KuraHTTP

/// The `connections:` block (top level, or per listener): timeouts and the per-address cap.
extension ServeConfigurationLoader.File {
    struct Connections: Decodable {
        var idleTimeoutSeconds: Int?
        var requestHeadTimeoutSeconds: Int?
        var bodyTimeoutSeconds: Int?
        var maxPerAddress: Int?
    }
}

extension ServeConfigurationLoader {
    /// `base` with the block's values; `field` names the block in messages.
    func connectionSettings(_ block: File.Connections, over base: ConnectionSettings, field: String) throws -> ConnectionSettings {
        var settings = base
        if let value = block.idleTimeoutSeconds { settings.idleTimeout = .seconds(try timeout("\(field).idleTimeoutSeconds", value)) }
        if let value = block.requestHeadTimeoutSeconds {
            settings.requestHeadTimeout = .seconds(try timeout("\(field).requestHeadTimeoutSeconds", value))
        }
        if let value = block.bodyTimeoutSeconds { settings.bodyTimeout = .seconds(try timeout("\(field).bodyTimeoutSeconds", value)) }
        if let value = block.maxPerAddress {
            guard value >= 0 else { throw ConfigurationError(description: "\(field).maxPerAddress must be 0 (no cap) or more, not \(value)") }
            settings.maxPerAddress = value
        }
        return settings
    }

    /// `KURA_IDLE_TIMEOUT_SECONDS`, `KURA_REQUEST_HEAD_TIMEOUT_SECONDS`, `KURA_BODY_TIMEOUT_SECONDS`,
    /// `KURA_MAX_CONNECTIONS_PER_ADDRESS`: the server-wide settings.
    func applyConnectionEnvironment(_ environment: [String: String], to configuration: inout ServerConfiguration) throws {
        let keys = [
            "KURA_IDLE_TIMEOUT_SECONDS": \File.Connections.idleTimeoutSeconds,
            "KURA_REQUEST_HEAD_TIMEOUT_SECONDS": \File.Connections.requestHeadTimeoutSeconds,
            "KURA_BODY_TIMEOUT_SECONDS": \File.Connections.bodyTimeoutSeconds,
            "KURA_MAX_CONNECTIONS_PER_ADDRESS": \File.Connections.maxPerAddress,
        ]
        var block = File.Connections()
        for (key, path) in keys {
            guard let text = environment[key] else { continue }
            guard let value = Int(text) else { throw ConfigurationError(description: "\(key) must be an integer, not \(text)") }
            block[keyPath: path] = value
        }
        configuration.connections = try connectionSettings(block, over: configuration.connections, field: "connections")
    }

    private func timeout(_ key: String, _ value: Int) throws -> Int {
        guard (1...86_400).contains(value) else { throw ConfigurationError(description: "\(key) must be between 1 and 86400 seconds, not \(value)") }
        return value
    }
}
