import Foundation
import KuraCore
public import KuraMirror

/// `proxies:` entries: a namespace that is a pull-through cache of an upstream registry.
/// The upstream's password is read from a file, so the configuration holds no secret.
extension ProxyNamespace {
    public static var configurationKeys: [ConfigurationKey] {
        [
            .init("proxies.*.namespace", default: nil, "The namespace served as a pull-through cache."),
            .init("proxies.*.upstream", default: nil, "The upstream registry URL."),
            .init("proxies.*.upstreamPrefix", default: nil, "A repository prefix at the upstream (library for Docker Hub)."),
            .init("proxies.*.username", default: nil, "Upstream user (with passwordFile)."),
            .init("proxies.*.passwordFile", default: nil, "A file holding the upstream password."),
            .init("proxies.*.tagTTLSeconds", default: "300", "How long a tag fetched from the upstream is trusted."),
            .init("proxies.*.fillWindowBytes", default: "\(8 << 20)", "Bytes of one blob fill held in memory."),
        ]
    }

    static let configurationFields = ["namespace", "upstream", "upstreamPrefix", "username", "passwordFile", "tagTTLSeconds", "fillWindowBytes"]

    /// Every entry of the `proxies:` list.
    public static func all(reading settings: SettingsReader) throws -> [ProxyNamespace] {
        try (0..<settings.count("proxies", fields: configurationFields)).map { try ProxyNamespace(reading: settings, entry: "proxies.\($0)") }
    }

    init(reading settings: SettingsReader, entry: String) throws {
        guard let namespace = try settings.text("\(entry).namespace") else { throw ConfigurationError(key: "\(entry).namespace", "is required") }
        guard (try? RepositoryName(parsing: namespace))?.components.count == 1 else {
            throw ConfigurationError(key: "\(entry).namespace", "must be a namespace name, not \(namespace.debugDescription)")
        }
        do { try self.init(reading: settings, entry: entry, namespace: namespace) } catch let error as ConfigurationError {
            throw error.labelling(entry, as: "proxies.\(namespace)")
        }
    }

    private init(reading settings: SettingsReader, entry: String, namespace: String) throws {
        var credentials: RegistryCredentials?
        switch (try settings.text("\(entry).username"), try settings.text("\(entry).passwordFile")) {
        case (let username?, let file?):
            let password: String
            do { password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines) } catch {
                throw ConfigurationError(key: "\(entry).passwordFile", "cannot be read: \(file)")
            }
            credentials = RegistryCredentials(username: username, password: password)
        case (nil, nil):
            credentials = nil
        default:
            throw ConfigurationError(key: "\(entry).username", "and passwordFile go together (proxy \(namespace))")
        }
        let ttl = try settings.int("\(entry).tagTTLSeconds", in: 0...Int64.max, meaning: "0 or more")
        let fillWindow = try settings.positive("\(entry).fillWindowBytes")
        guard let upstream = try settings.text("\(entry).upstream") else { throw ConfigurationError(key: "\(entry).upstream", "is required") }
        do {
            self.init(
                namespace: namespace, upstream: try RegistryEndpoint(parsing: upstream, credentials: credentials),
                upstreamPrefix: try settings.text("\(entry).upstreamPrefix"), tagTTL: .seconds(ttl), fillWindow: fillWindow)
        } catch {
            throw ConfigurationError(key: "\(entry).upstream", "\(error)")
        }
    }
}
