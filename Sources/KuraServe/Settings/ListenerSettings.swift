import KuraCore
public import KuraHTTP

/// The endpoints `kura serve` listens on: the single-listener shorthand (`listen`, or `host`
/// and `port`) or a `listeners:` list, and how often TLS files are checked for changes.
public struct ListenerSettings: ConfigurationSection, Sendable {
    public var host: String
    public var port: Int
    public var listeners: [ListenerConfiguration]
    public var tlsReloadIntervalSeconds: Int

    public static var configurationKeys: [ConfigurationKey] {
        let defaults = ServerConfiguration()
        let allAPIs = ListenerConfiguration.API.allCases.map(\.rawValue).joined(separator: ",")
        return [
            .init("listen", default: nil, "HOST:PORT of one listener serving every API; replaces listeners."),
            .init("host", default: defaults.host, "Host of the single listener (without listeners)."),
            .init("port", default: "\(defaults.port)", "Port of the single listener (without listeners)."),
            .init("listeners.*.name", default: nil, "A short name for logs (default listener<n>)."),
            .init("listeners.*.address", default: nil, "HOST:PORT (port 0 picks a free one)."),
            .init("listeners.*.apis", default: allAPIs, "The APIs served: v2, admin, dashboard."),
            .init("listeners.*.anonymousPull", default: "true", "Callers without credentials may pull public namespaces."),
            .init("listeners.*.allow", default: nil, "Networks (CIDR) whose clients may connect (unset: everyone)."),
            .init("listeners.*.tls.certificate", default: nil, "PEM certificate file: the listener speaks TLS."),
            .init("listeners.*.tls.key", default: nil, "PEM private key file."),
            .init("listeners.*.trustedProxies", default: "", "Networks whose X-Forwarded-* headers are believed."),
            .init("tls.reloadIntervalSeconds", default: "\(defaults.tlsReloadIntervalSeconds)", "Seconds between checks of TLS files for changes."),
        ]
    }

    static let listenerFields = ["name", "address", "apis", "anonymousPull", "allow", "tls.certificate", "tls.key", "trustedProxies"]
        + ConnectionSettings.fields.map { "connections.\($0.name)" }

    public init(reading settings: SettingsReader) throws {
        try self.init(reading: settings, connections: try ConnectionSettings(reading: settings))
    }

    /// `connections` is the server-wide block each listener's own `connections` overrides.
    public init(reading settings: SettingsReader, connections: ConnectionSettings) throws {
        tlsReloadIntervalSeconds = try settings.positive("tls.reloadIntervalSeconds")
        host = try settings.string("host")
        port = try settings.int("port", in: 0...65535)
        let count = settings.count("listeners", fields: Self.listenerFields)
        let listenersLayer = (0..<count).flatMap { index in Self.listenerFields.compactMap { settings.layer(of: "listeners.\(index).\($0)") } }.max()
        let listenLayer = settings.layer(of: "listen")
        let hostOrPortLayer = [settings.layer(of: "host"), settings.layer(of: "port")].compactMap { $0 }.max()
        if let listenersLayer {
            if listenersLayer == listenLayer || listenersLayer == hostOrPortLayer {
                throw ConfigurationError("use either listen (or host and port) or listeners, not both")
            }
            if let hostOrPortLayer, hostOrPortLayer > listenersLayer, (listenLayer ?? -1) < listenersLayer {
                throw ConfigurationError(
                    "KURA_HOST and KURA_PORT (host and port) set the single listener, but listeners are configured; use KURA_LISTEN to replace them")
            }
        }
        if let listenLayer, listenLayer > (listenersLayer ?? -1) {
            // The shorthand replaces the list; a host or port set as high overrides its part.
            let (listenHost, listenPort) = try settings.hostAndPort("listen")
            if (settings.layer(of: "host") ?? -1) < listenLayer { host = listenHost }
            if (settings.layer(of: "port") ?? -1) < listenLayer { port = listenPort }
            listeners = []
        } else if count > 0 {
            listeners = try Self.listeners(settings, count: count, connections: connections)
        } else {
            listeners = []
        }
    }

    /// Checks every entry (address, APIs, CIDR lists, TLS files named) and that names and
    /// addresses are unique; the first problem is thrown with the listener's name.
    static func listeners(_ settings: SettingsReader, count: Int, connections: ConnectionSettings) throws -> [ListenerConfiguration] {
        var result: [ListenerConfiguration] = []
        for index in 0..<count {
            let entry = "listeners.\(index)"
            let name = try settings.text("\(entry).name") ?? "listener\(index + 1)"
            do {
                var listener = try listener(settings, entry: entry, name: name)
                listener.connections = try ConnectionSettings.listener(settings, entry: entry, over: connections)
                result.append(listener)
            } catch let error as ConfigurationError {
                throw error.labelling(entry, as: "listeners[\(name)]")
            }
        }
        var seenNames = Set<String>()
        var seenAddresses = Set<String>()
        for listener in result {
            guard seenNames.insert(listener.name).inserted else { throw ConfigurationError("two listeners are named \(listener.name)") }
            guard listener.port == 0 || seenAddresses.insert("\(listener.host):\(listener.port)").inserted else {
                throw ConfigurationError("two listeners use \(listener.host):\(listener.port)")
            }
        }
        return result
    }

    private static func listener(_ settings: SettingsReader, entry: String, name: String) throws -> ListenerConfiguration {
        guard settings.isSet("\(entry).address") else { throw ConfigurationError(key: "\(entry).address", "is required (HOST:PORT)") }
        let (host, port) = try settings.hostAndPort("\(entry).address")
        var apis = Set<ListenerConfiguration.API>()
        for api in try settings.strings("\(entry).apis") ?? [] {
            guard let parsed = ListenerConfiguration.API(rawValue: api) else {
                let known = ListenerConfiguration.API.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError(key: "\(entry).apis", "has an unknown API \(api) (known: \(known))")
            }
            apis.insert(parsed)
        }
        if apis.isEmpty { throw ConfigurationError(key: "\(entry).apis", "is empty") }
        let allow = try settings.strings("\(entry).allow")
        if allow?.isEmpty == true {
            throw ConfigurationError(key: "\(entry).allow", "is empty, so no one could connect; omit it to admit everyone")
        }
        var tls: ListenerConfiguration.TLSFiles?
        switch (try settings.text("\(entry).tls.certificate"), try settings.text("\(entry).tls.key")) {
        case (let certificate?, let key?): tls = .init(certificatePath: certificate, keyPath: key)
        case (nil, nil): tls = nil
        default: throw ConfigurationError(key: "\(entry).tls", "needs certificate and key (PEM file paths)")
        }
        return ListenerConfiguration(
            name: name, host: host, port: port, apis: apis, anonymousPull: try settings.bool("\(entry).anonymousPull"),
            allow: try allow.map { try ranges($0, key: "\(entry).allow") }, tls: tls,
            trustedProxies: try ranges(try settings.strings("\(entry).trustedProxies") ?? [], key: "\(entry).trustedProxies"))
    }

    private static func ranges(_ texts: [String], key: String) throws -> [NetworkRange] {
        try texts.map { text in
            do { return try NetworkRange(parsing: text) } catch { throw ConfigurationError(key: key, "has \(text): \(error)") }
        }
    }
}
