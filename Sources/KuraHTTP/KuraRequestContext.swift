public import Hummingbird
public import NIOCore

/// The request context of Kura's routes: Hummingbird's core context plus the client's
/// address (for the audit log and login rate limiting) and the endpoint it reached.
public struct KuraRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket's peer (a proxy, when there is one in front).
    public let remoteAddress: SocketAddress?
    /// Set by ``ListenerMiddleware``: the client's view of the endpoint, with trusted
    /// `X-Forwarded-*` applied.
    public var resolvedOrigin: RequestOrigin?
    /// The connection's channel; blob bodies are written from its loop
    /// (``ResponseBody/streaming(_:writingOn:)``), or sent from files by its
    /// ``FileRegionSender``.
    package let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The client's IP address as text (from a trusted proxy's `X-Forwarded-For`).
    package var sourceAddress: String? { resolvedOrigin?.clientAddress ?? remoteAddress?.ipAddress }

    /// The endpoint as the client sees it; plain HTTP on the `Host` it sent when no listener
    /// middleware ran.
    package func origin(of request: Request) -> RequestOrigin {
        resolvedOrigin ?? RequestOrigin(scheme: "http", host: request.head.authority, clientAddress: remoteAddress?.ipAddress)
    }
}
