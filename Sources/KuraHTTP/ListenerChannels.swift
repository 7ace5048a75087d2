import Hummingbird
package import HummingbirdCore
import HummingbirdHTTP2
import KuraCore
package import Logging
import NIOCore
import NIOSSL

/// How a listener's connections are set up: plain HTTP/1.1, or TLS with HTTP/2 offered by
/// ALPN (HTTP/1.1 for clients that do not ask for h2); timed by ``ConnectionTimeoutHandler``,
/// capped per source address, and behind the allow-list when it has one. Every connection
/// and stream answers `Expect: 100-continue` (``ExpectContinueHandler``).
package enum ListenerChannels {
    package static func serverBuilder(for listener: ListenerConfiguration, certificate: TLSCertificateStore?, logger: Logger) -> HTTPServerBuilder {
        let tlsConfiguration = certificate?.serverConfiguration()
        let allow = listener.allow
        let settings = listener.connections ?? ConnectionSettings()
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionTimeoutHandler(settings: settings, logger: logger), ProtocolErrorHandler(), LargeReadsHandler(), ExpectContinueHandler(),
            ])
        let counter = ConnectionCounter()
        let exempt = listener.trustedProxies
        return HTTPServerBuilder { responder in
            let responder = ExpectContinueBody.responder(responder)
            if let tlsConfiguration {
                let http2 = HTTP2ChannelConfiguration(idleTimeout: settings.idleTimeout, streamConfiguration: http1)
                let channel = try HTTP2UpgradeChannel(tlsConfiguration: tlsConfiguration, configuration: http2, responder: responder)
                return wrap(channel, settings, exempt, counter, plainHTTP: false, allow: allow)
            }
            return wrap(BoundedHTTP1Channel(responder: responder, configuration: http1), settings, exempt, counter, plainHTTP: true, allow: allow)
        }
    }

    /// The per-address cap inside the allow-list (a refused outsider is never counted).
    private static func wrap<Setup: ServerChildChannel>(
        _ channel: Setup, _ settings: ConnectionSettings, _ exempt: [NetworkRange], _ counter: ConnectionCounter, plainHTTP: Bool,
        allow: [NetworkRange]?
    ) -> any ServerChildChannel {
        guard settings.maxPerAddress > 0 else { return guarded(channel, allow: allow) }
        let capped = ConnectionCapChannel(base: channel, limit: settings.maxPerAddress, exempt: exempt, counter: counter, answersInPlainHTTP: plainHTTP)
        return guarded(capped, allow: allow)
    }

    private static func guarded<Setup: ServerChildChannel>(_ channel: Setup, allow: [NetworkRange]?) -> any ServerChildChannel {
        guard let allow else { return channel }
        return AllowListChannel(base: channel, allow: allow)
    }
}
