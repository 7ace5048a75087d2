public import KuraHTTP

/// The `connections:` block: timeouts and the per-address cap, server-wide and (under
/// `listeners.*.connections`) per listener, where a listener's own values win.
extension ConnectionSettings {
    static let fields: [(name: String, summary: String)] = [
        ("idleTimeoutSeconds", "A kept-alive connection with no request for this long is closed."),
        ("requestHeadTimeoutSeconds", "A connection must deliver a complete request head within this time."),
        ("bodyTimeoutSeconds", "While a body is read, a gap this long closes the connection (and frees its upload session)."),
        ("maxPerAddress", "Open connections one source address may hold (0: no cap; trusted proxies are exempt)."),
    ]

    public static var configurationKeys: [ConfigurationKey] {
        let defaults = ConnectionSettings()
        let values = [
            "\(defaults.idleTimeout.components.seconds)", "\(defaults.requestHeadTimeout.components.seconds)",
            "\(defaults.bodyTimeout.components.seconds)", "\(defaults.maxPerAddress)",
        ]
        return zip(fields, values).map { field, value in .init("connections.\(field.name)", default: value, field.summary) }
            + fields.map { .init("listeners.*.connections.\($0.name)", default: nil, "This listener's \($0.name) (unset: connections.\($0.name)).") }
    }

    /// The server-wide block.
    public init(reading settings: SettingsReader) throws {
        self.init()
        try apply(settings, prefix: "connections")
    }

    /// `base` with the values a listener's own block sets.
    static func listener(_ settings: SettingsReader, entry: String, over base: ConnectionSettings) throws -> ConnectionSettings? {
        let prefix = "\(entry).connections"
        guard fields.contains(where: { settings.isSet("\(prefix).\($0.name)") }) else { return nil }
        var result = base
        try result.apply(settings, prefix: prefix, onlySet: true)
        return result
    }

    private mutating func apply(_ settings: SettingsReader, prefix: String, onlySet: Bool = false) throws {
        func seconds(_ name: String) throws -> Duration? {
            let path = "\(prefix).\(name)"
            if onlySet, !settings.isSet(path) { return nil }
            return try settings.optionalInt(path, in: 1...86_400, meaning: "between 1 and 86400 seconds").map { .seconds($0) }
        }
        if let value = try seconds("idleTimeoutSeconds") { idleTimeout = value }
        if let value = try seconds("requestHeadTimeoutSeconds") { requestHeadTimeout = value }
        if let value = try seconds("bodyTimeoutSeconds") { bodyTimeout = value }
        let capPath = "\(prefix).maxPerAddress"
        if !onlySet || settings.isSet(capPath), let cap = try settings.optionalInt(capPath, in: 0...1_000_000, meaning: "0 (no cap) or more") {
            maxPerAddress = Int(cap)
        }
    }
}
