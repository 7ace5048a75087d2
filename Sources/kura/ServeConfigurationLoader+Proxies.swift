import Foundation
import KuraCore
import KuraMirror

extension ServeConfigurationLoader.File {
    /// `proxies:` entries: a namespace that is a pull-through cache of an upstream registry.
    /// The upstream's password is read from a file, so the configuration holds no secret.
    struct Proxy: Decodable {
        var namespace: String
        var upstream: String
        var upstreamPrefix: String?
        var username: String?
        var passwordFile: String?
        var tagTTLSeconds: Int?
        var fillWindowBytes: Int?
    }
}

extension ServeConfigurationLoader {
    static func proxyNamespace(_ proxy: File.Proxy) throws -> ProxyNamespace {
        guard (try? RepositoryName(parsing: proxy.namespace))?.components.count == 1 else {
            throw ConfigurationError(description: "proxies: \(proxy.namespace.debugDescription) is not a namespace name")
        }
        var credentials: RegistryCredentials?
        switch (proxy.username, proxy.passwordFile) {
        case (let username?, let file?):
            let password: String
            do { password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines) } catch {
                throw ConfigurationError(description: "proxies.\(proxy.namespace): cannot read passwordFile \(file)")
            }
            credentials = RegistryCredentials(username: username, password: password)
        case (nil, nil):
            credentials = nil
        default:
            throw ConfigurationError(description: "proxies.\(proxy.namespace): username and passwordFile go together")
        }
        let ttl = proxy.tagTTLSeconds ?? 300
        guard ttl >= 0 else { throw ConfigurationError(description: "proxies.\(proxy.namespace).tagTTLSeconds must not be negative") }
        let fillWindow = proxy.fillWindowBytes ?? 8 << 20
        guard fillWindow > 0 else { throw ConfigurationError(description: "proxies.\(proxy.namespace).fillWindowBytes must be positive") }
        do {
            return ProxyNamespace(
                namespace: proxy.namespace, upstream: try RegistryEndpoint(parsing: proxy.upstream, credentials: credentials),
                upstreamPrefix: proxy.upstreamPrefix, tagTTL: .seconds(ttl), fillWindow: fillWindow)
        } catch {
            throw ConfigurationError(description: "proxies.\(proxy.namespace).upstream: \(error)")
        }
    }
}
