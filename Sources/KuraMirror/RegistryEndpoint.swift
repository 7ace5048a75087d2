import Foundation

/// User name and password (or access key id and secret key) for a remote registry.
///
/// The description never shows the secret, so a credential can be logged or printed by
/// accident without leaking.
public struct RegistryCredentials: Sendable, Hashable, Codable, CustomStringConvertible, CustomDebugStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `Basic base64(user:password)`.
    var basicAuthorization: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }

    public var description: String { "\(username):***" }
    public var debugDescription: String { description }
}

/// Where a registry answers (`http://host:port` or `https://host`) and how to sign in.
public struct RegistryEndpoint: Sendable, CustomStringConvertible {
    /// Base URL without a trailing slash and without `/v2`.
    public let baseURL: String
    public var credentials: RegistryCredentials?

    /// Accepts `http://host:port`, `https://host/`, or a bare `host:port` (https assumed,
    /// except for loopback hosts, which get http).
    public init(parsing text: String, credentials: RegistryCredentials? = nil) throws(MirrorError) {
        var url = text.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        if url.hasSuffix("/v2") { url.removeLast(3) }
        if !url.contains("://") {
            let isLoopback = url.hasPrefix("127.") || url.hasPrefix("localhost") || url.hasPrefix("[::1]")
            url = (isLoopback ? "http://" : "https://") + url
        }
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil,
            parsed.query == nil
        else { throw .invalidArgument("not a registry URL: \(text.debugDescription)") }
        baseURL = url
        self.credentials = credentials
    }

    public var description: String { baseURL }

    /// An absolute URL for a path that starts with `/`, or a `Location` that may be absolute.
    func url(_ pathOrURL: String) -> String {
        pathOrURL.contains("://") ? pathOrURL : baseURL + pathOrURL
    }
}
