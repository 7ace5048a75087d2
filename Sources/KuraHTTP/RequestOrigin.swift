import Foundation
import Hummingbird
import KuraCore

/// Where a request came from and which endpoint it reached, as the client sees it: the
/// scheme and host for URLs the server sends back (token realm, `Location`), and the
/// client's address for audit and login rate limits. Behind a trusted proxy these come
/// from its `X-Forwarded-*` headers.
public struct RequestOrigin: Sendable, Hashable {
    public var scheme: String
    /// The `Host` (or HTTP/2 `:authority`) the client used; nil when it sent none.
    public var host: String?
    public var clientAddress: String?

    public init(scheme: String, host: String?, clientAddress: String?) {
        self.scheme = scheme
        self.host = host
        self.clientAddress = clientAddress
    }

    /// `scheme://host`, the base of absolute URLs sent back to this client.
    public var baseURL: String { "\(scheme)://\(host ?? "127.0.0.1")" }

    /// The origin of `request`, received on `listener` from `peer` (the socket's address).
    /// Forwarded headers count only when `peer` is one of the listener's trusted proxies.
    static func resolve(_ request: Request, peer: String?, listener: ListenerConfiguration) -> RequestOrigin {
        var origin = RequestOrigin(scheme: listener.scheme, host: request.head.authority, clientAddress: peer)
        guard let peer, let peerAddress = IPAddress(parsing: peer), listener.trustedProxies.containsAddress(peerAddress) else {
            return origin
        }
        if let proto = firstValue(request.headers[.xForwardedProto])?.lowercased(), proto == "http" || proto == "https" {
            origin.scheme = proto
        }
        if let host = firstValue(request.headers[.xForwardedHost]), !host.isEmpty, host.allSatisfy({ !$0.isWhitespace && $0 != "/" }) {
            origin.host = host
        }
        if let forwardedFor = request.headers[.xForwardedFor] {
            origin.clientAddress = clientAddress(forwardedFor: forwardedFor, trusted: listener.trustedProxies) ?? peer
        }
        return origin
    }

    /// The client in an `X-Forwarded-For` chain: the right-most address that is not a
    /// trusted proxy (entries further left may be forged by the client).
    static func clientAddress(forwardedFor: String, trusted: [NetworkRange]) -> String? {
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var candidate: String?
        for hop in hops.reversed() {
            guard let address = IPAddress(parsing: hop) else { return candidate }
            candidate = address.description
            if !trusted.containsAddress(address) { return candidate }
        }
        return candidate
    }

    private static func firstValue(_ header: String?) -> String? {
        header?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
