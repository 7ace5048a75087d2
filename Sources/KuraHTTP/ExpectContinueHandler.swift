import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// `Expect: 100-continue` (RFC 9110 §10.1.1) on one connection or HTTP/2 stream. The route
/// decides first (authorisation, the upload session, the declared length); only when it
/// starts reading the body does ``ExpectContinueBody`` ask this handler for the interim
/// `100 Continue`. A final status written before that means the body was never wanted: the
/// client will not send it, so the response says `Connection: close` and the connection
/// (or stream) is closed after it, instead of waiting for a body that is not coming.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Sent down the pipeline on the first read of a body the client holds back.
    struct SendContinue: Sendable {}

    private enum Expectation {
        case plain
        /// The client waits for `100 Continue` before sending the body.
        case waiting
        case continued
        /// Answered without the body: close once the response is out.
        case refused
    }

    /// One entry per request read and not yet answered, oldest first (HTTP/1.1 answers in order).
    private var pending: [Expectation] = []
    private var isHTTP2Stream = false

    func handlerAdded(context: ChannelHandlerContext) {
        // HTTP/2 forbids the `Connection` header.
        isHTTP2Stream = context.channel.isHTTP2Stream
    }

    static func expectsContinue(_ headers: HTTPFields) -> Bool {
        headers[.expect].map { $0.lowercased() == "100-continue" } ?? false
    }

    /// Whether the client holds back a body: it asked for `100 Continue` and announced one.
    static func holdsBackBody(_ headers: HTTPFields) -> Bool {
        guard expectsContinue(headers) else { return false }
        if headers[.transferEncoding] != nil { return true }
        return (headers.declaredContentLength ?? 0) > 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            pending.append(Self.holdsBackBody(head.headerFields) ? .waiting : .plain)
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is SendContinue else { return context.triggerUserOutboundEvent(event, promise: promise) }
        guard pending.first == .waiting else {
            promise?.succeed()
            return
        }
        pending[0] = .continued
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: promise)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where response.status.kind != .informational && !pending.isEmpty:
            guard pending[0] == .waiting else { return context.write(data, promise: promise) }
            pending[0] = .refused
            if !isHTTP2Stream { response.headerFields[.connection] = "close" }
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end:
            let answered = pending.isEmpty ? Expectation.plain : pending.removeFirst()
            guard answered == .refused else { return context.write(data, promise: promise) }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        default:
            context.write(data, promise: promise)
        }
    }
}
