import Hummingbird
package import HummingbirdCore
import HummingbirdHTTP2
import KuraCore
import NIOSSL

/// How a listener's connections are set up: plain HTTP/1.1, or TLS with HTTP/2 offered by
/// ALPN (HTTP/1.1 for clients that do not ask for h2); behind the allow-list when it has one.
package enum ListenerChannels {
    package static func serverBuilder(for listener: ListenerConfiguration, certificate: TLSCertificateStore?) -> HTTPServerBuilder {
        let tlsConfiguration = certificate?.serverConfiguration()
        let allow = listener.allow
        return HTTPServerBuilder { responder in
            if let tlsConfiguration {
                return guarded(try HTTP2UpgradeChannel(tlsConfiguration: tlsConfiguration, responder: responder), allow: allow)
            }
            return guarded(HTTP1Channel(responder: responder), allow: allow)
        }
    }

    private static func guarded<Setup: ServerChildChannel>(_ channel: Setup, allow: [NetworkRange]?) -> any ServerChildChannel {
        guard let allow else { return channel }
        return AllowListChannel(base: channel, allow: allow)
    }
}
