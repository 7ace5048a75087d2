import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// Closes an HTTP connection (or HTTP/2 stream) that keeps the server waiting: no complete
/// request head within ``ConnectionSettings/requestHeadTimeout`` of opening, no body bytes
/// for ``ConnectionSettings/bodyTimeout`` while a body is read, no new request for
/// ``ConnectionSettings/idleTimeout`` after a response. While the server itself is
/// answering, nothing is timed. Closing the channel ends the request's body stream with an
/// error, so a stalled upload gives its session back.
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase: String {
        case awaitingHead = "request head"
        case readingBody = "request body"
        case responding
        case idle
    }

    private let settings: ConnectionSettings
    private let logger: Logger
    private var phase = Phase.awaitingHead
    private var openRequests = 0
    /// When the current phase times out; pushed forward as bytes arrive.
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerFiresAt: NIODeadline?

    init(settings: ConnectionSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { enter(.awaitingHead, context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil, phase == .awaitingHead { enter(.awaitingHead, context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            openRequests += 1
            enter(.readingBody, context: context)
        case .body:
            if phase == .readingBody { deadline = .now() + TimeAmount(settings.bodyTimeout) }
        case .end:
            // The answer may have gone out before the body was read (an early refusal).
            if phase == .readingBody { enter(openRequests == 0 ? .idle : .responding, context: context) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            openRequests = max(0, openRequests - 1)
            if openRequests == 0, phase == .responding { enter(.idle, context: context) }
        }
        context.write(data, promise: promise)
    }

    private func enter(_ next: Phase, context: ChannelHandlerContext) {
        phase = next
        let limit: Duration? =
            switch next {
            case .awaitingHead: settings.requestHeadTimeout
            case .readingBody: settings.bodyTimeout
            case .idle: settings.idleTimeout
            case .responding: nil
            }
        guard let limit else {
            deadline = nil
            return
        }
        deadline = .now() + TimeAmount(limit)
        schedule(context: context)
    }

    private func schedule(context: ChannelHandlerContext) {
        guard let deadline else { return }
        if timer != nil, let timerFiresAt, timerFiresAt <= deadline { return }  // fires in time and re-checks
        timer?.cancel()
        timerFiresAt = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard let current = self.deadline else { return }  // answering: nothing is timed
            if current > .now() {
                schedule(context: context)  // bytes arrived since: wait for the new deadline
                return
            }
            logger.info(
                "closing a stalled connection",
                metadata: ["waiting-for": "\(phase.rawValue)", "peer": "\(context.remoteAddress?.description ?? "?")"])
            context.close(promise: nil)
        }
    }
}
