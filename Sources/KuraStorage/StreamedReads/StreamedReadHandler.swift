import NIOCore
import NIOHTTP1
import NIOTLS

/// Why a streamed GET's connection failed it.
public enum StreamedReadError: Error, Equatable, CustomStringConvertible {
    /// The connection closed before the response ended.
    case connectionClosed
    /// The transfer ran past its deadline.
    case deadlineExceeded
    /// Nothing arrived for the connection's read timeout while the reader was keeping up.
    case readTimeout

    public var description: String {
        switch self {
        case .connectionClosed: "the connection closed before the response ended"
        case .deadlineExceeded: "the transfer ran past its deadline"
        case .readTimeout: "no bytes arrived within the read timeout"
        }
    }
}

/// One GET for ``StreamedReadHandler`` to send: its head, where its response goes, and what to do
/// once the response has ended on a connection that can carry another request.
struct StreamedReadRequest: Sendable {
    var head: HTTPRequestHead
    var stream: StreamedBody
    var deadline: NIODeadline
    /// Called on the connection's loop after a whole response on a keep-alive connection.
    var reusable: @Sendable () -> Void
}

/// The last handler of a connection of ``StreamedReadConnections``: sends one GET at a time and
/// hands its response to the request's ``StreamedBody``. While the stream's read-ahead is
/// full it holds the connection's reads back, so the socket fills and TCP slows the sender.
final class StreamedReadHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = StreamedReadRequest
    typealias OutboundOut = HTTPClientRequestPart

    /// Sent by a reader that lets go of its response early: the connection closes if it still
    /// carries that response (not if it has since ended and the connection went on).
    struct Abandon: Sendable {
        let stream: StreamedBody
    }

    /// Completed once the connection can carry a request: when it connects, or after the TLS
    /// handshake; failed with the handshake's error (a certificate that does not verify).
    private let ready: EventLoopPromise<Void>
    private let secure: Bool
    private var current: StreamedReadRequest?
    /// Whether a request was ever sent: a connection that never carried one is not idle in the pool.
    private var hasCarried = false
    private var keepAlive = false
    private var deadline: Scheduled<Void>?
    /// The stream's read-ahead is full: reads wait for the reader.
    private var paused = false
    private var readPending = false

    init(ready: EventLoopPromise<Void>, secure: Bool) {
        self.ready = ready
        self.secure = secure
    }

    func channelActive(context: ChannelHandlerContext) {
        if !secure { ready.succeed() }
        context.fireChannelActive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard current == nil, context.channel.isActive else {
            // The pool hands a connection to one request at a time; a closed one fails at once.
            request.stream.end(StreamedReadError.connectionClosed)
            promise?.fail(StreamedReadError.connectionClosed)
            return
        }
        current = request
        hasCarried = true
        keepAlive = false
        let stream = request.stream
        deadline = context.eventLoop.assumeIsolated().scheduleTask(deadline: request.deadline) { [weak self] in
            self?.fail(stream, StreamedReadError.deadlineExceeded, context: context)
        }
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let current else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard head.status.code >= 200 else { return }  // an informational response: the final one follows
            keepAlive = head.isKeepAlive
            current.stream.receive(head: head)
        case .body(let buffer):
            if let resumed = current.stream.receive(buffer, on: context.eventLoop) {
                paused = true
                resumed.hop(to: context.eventLoop).assumeIsolated().whenComplete { [weak self] _ in
                    self?.resumeReading(context: context)
                }
            }
        case .end:
            finish()
            // Back in the pool before the reader learns of the end, so its next read finds it.
            if keepAlive { current.reusable() } else { context.close(promise: nil) }
            current.stream.end(nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readPending = true
        } else {
            context.read()
        }
    }

    private func resumeReading(context: ChannelHandlerContext) {
        paused = false
        if readPending {
            readPending = false
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(StreamedReadError.connectionClosed)
        if let current {
            finish()
            current.stream.end(StreamedReadError.connectionClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ready.fail(error)
        if let current { fail(current.stream, error, context: context) } else { context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { ready.succeed() }
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Quiet while the reader is behind is the reader's doing, not the server's.
        if let current, !paused {
            fail(current.stream, StreamedReadError.readTimeout, context: context)
        } else if current == nil, hasCarried {
            context.close(promise: nil)  // idle in the pool this long: let it go
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let abandon = event as? Abandon else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if let current, current.stream === abandon.stream {
            fail(current.stream, StreamedReadError.connectionClosed, context: context)
        }
        promise?.succeed()
    }

    /// Ends the request in flight with `error` (if `stream` is still it) and closes the
    /// connection, which may hold part of a body.
    private func fail(_ stream: StreamedBody, _ error: any Error, context: ChannelHandlerContext) {
        guard let current, current.stream === stream else { return }
        finish()
        current.stream.end(error)
        context.close(promise: nil)
    }

    private func finish() {
        current = nil
        deadline?.cancel()
        deadline = nil
    }
}
