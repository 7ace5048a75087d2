import KuraCore
import KuraHTTP

/// The `listeners:` list and `tls:` settings of `kura serve`'s YAML file.
extension ServeConfigurationLoader.File {
    /// One endpoint; see ``ListenerConfiguration``.
    struct Listener: Decodable {
        var name: String?
        /// HOST:PORT
        var address: String?
        var apis: [String]?
        var anonymousPull: Bool?
        var allow: [String]?
        var tls: ListenerTLS?
        var trustedProxies: [String]?
        /// Overrides the top-level `connections:` for this listener.
        var connections: Connections?
    }

    struct ListenerTLS: Decodable {
        var certificate: String?
        var key: String?
    }

    struct TLS: Decodable {
        var reloadIntervalSeconds: Int?
    }
}

extension ServeConfigurationLoader {
    /// Checks every entry (address, APIs, CIDR lists, TLS files named) and that names and
    /// addresses are unique; the first problem is thrown with the listener's name.
    func parseListeners(_ entries: [File.Listener], connections: ConnectionSettings) throws -> [ListenerConfiguration] {
        guard !entries.isEmpty else { throw ConfigurationError(description: "listeners is empty; omit it for the default listener") }
        var result: [ListenerConfiguration] = []
        for (index, entry) in entries.enumerated() {
            let name = entry.name ?? "listener\(index + 1)"
            let field = "listeners[\(name)]"
            guard let address = entry.address else { throw ConfigurationError(description: "\(field) needs an address (HOST:PORT)") }
            let (host, port) = try hostAndPort(address, field: "\(field).address")
            var apis = Set(ListenerConfiguration.API.allCases)
            if let names = entry.apis {
                apis = []
                for api in names {
                    guard let parsed = ListenerConfiguration.API(rawValue: api) else {
                        let known = ListenerConfiguration.API.allCases.map(\.rawValue).joined(separator: ", ")
                        throw ConfigurationError(description: "\(field).apis: unknown API \(api) (known: \(known))")
                    }
                    apis.insert(parsed)
                }
                if apis.isEmpty { throw ConfigurationError(description: "\(field).apis is empty") }
            }
            if entry.allow?.isEmpty == true {
                throw ConfigurationError(description: "\(field).allow is empty, so no one could connect; omit it to admit everyone")
            }
            var tls: ListenerConfiguration.TLSFiles?
            if let files = entry.tls {
                guard let certificate = files.certificate, let key = files.key else {
                    throw ConfigurationError(description: "\(field).tls needs certificate and key (PEM file paths)")
                }
                tls = .init(certificatePath: certificate, keyPath: key)
            }
            result.append(
                ListenerConfiguration(
                    name: name, host: host, port: port, apis: apis, anonymousPull: entry.anonymousPull ?? true,
                    allow: try entry.allow.map { try ranges($0, field: "\(field).allow") }, tls: tls,
                    trustedProxies: try ranges(entry.trustedProxies ?? [], field: "\(field).trustedProxies"),
                    connections: try entry.connections.map { try connectionSettings($0, over: connections, field: "\(field).connections") }))
        }
        var seenNames = Set<String>()
        var seenAddresses = Set<String>()
        for listener in result {
            guard seenNames.insert(listener.name).inserted else {
                throw ConfigurationError(description: "two listeners are named \(listener.name)")
            }
            guard listener.port == 0 || seenAddresses.insert("\(listener.host):\(listener.port)").inserted else {
                throw ConfigurationError(description: "two listeners use \(listener.host):\(listener.port)")
            }
        }
        return result
    }

    private func ranges(_ texts: [String], field: String) throws -> [NetworkRange] {
        try texts.map { text in
            do { return try NetworkRange(parsing: text) } catch { throw ConfigurationError(description: "\(field): \(error)") }
        }
    }
}
