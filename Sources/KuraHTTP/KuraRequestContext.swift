public import Hummingbird
public import NIOCore

/// The request context of Kura's routes: Hummingbird's core context plus the client's
/// address (for the audit log and login rate limiting).
public struct KuraRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text.
    var sourceAddress: String? { remoteAddress?.ipAddress }
}
