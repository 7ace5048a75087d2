import NIOCore
import NIOPosix
public import NIOSSL
import Synchronization

/// An HTTP/1.1 peer on 127.0.0.1 that answers each GET as its script says, by the
/// connection's and the request's number (both from 0): for tests of an HTTP client's
/// connection handling, which a well-behaved server does not exercise on demand.
public final class ScriptedPeer: Sendable {
    public enum Action: Sendable {
        /// A whole 200 response; with `close`, `Connection: close` and the connection closed.
        case respond(body: String, close: Bool = false)
        /// Closes the connection without answering.
        case close
        /// A 200 head declaring `declared` bytes, then only `sent`, then nothing.
        case stall(declared: Int, sent: String)
    }

    /// What the connections share.
    final class Journal: Sendable {
        let requests = Mutex<[String]>([])
        let connections = Atomic<Int>(0)
    }

    public let port: Int
    private let channel: any Channel
    private let journal = Journal()

    /// Request lines (method and target) in the order they arrived.
    public var requests: [String] { journal.requests.withLock { $0 } }

    /// A peer answering as `script` says, over TLS when `tls` is given.
    public init(
        tls: TLSConfiguration? = nil, script: @escaping @Sendable (_ connection: Int, _ request: Int) -> Action
    ) async throws {
        let journal = journal
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                let number = journal.connections.wrappingAdd(1, ordering: .relaxed).oldValue
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let context { try pipeline.addHandler(NIOSSLServerHandler(context: context)) }
                    try pipeline.addHandler(Connection(number: number, script: script, journal: journal))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    public func stop() { channel.close(promise: nil) }

    private final class Connection: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let number: Int
        let script: @Sendable (Int, Int) -> Action
        let journal: Journal
        private var received = ""
        private var answered = 0

        init(number: Int, script: @escaping @Sendable (Int, Int) -> Action, journal: Journal) {
            self.number = number
            self.script = script
            self.journal = journal
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
            // Bodiless requests: each ends at its blank line.
            while let end = received.range(of: "\r\n\r\n") {
                let line = received[..<end.lowerBound].prefix { $0 != "\r" }
                received.removeSubrange(..<end.upperBound)
                journal.requests.withLock { $0.append(line.split(separator: " ").prefix(2).joined(separator: " ")) }
                let action = script(number, answered)
                answered += 1
                switch action {
                case .respond(let body, let close):
                    let connection = close ? "connection: close\r\n" : ""
                    let text = "HTTP/1.1 200 OK\r\ncontent-length: \(body.utf8.count)\r\n\(connection)\r\n\(body)"
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
                    if close { context.close(promise: nil) }
                case .close:
                    context.close(promise: nil)
                    return
                case .stall(let declared, let sent):
                    let text = "HTTP/1.1 200 OK\r\ncontent-length: \(declared)\r\n\r\n\(sent)"
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
                }
            }
        }
    }
}
