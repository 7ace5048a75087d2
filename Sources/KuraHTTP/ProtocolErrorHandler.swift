import HTTPTypes
import KuraCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP parser refuses (a bad request line, an oversized head or URL,
/// conflicting `Transfer-Encoding` and `Content-Length`, a negative or unparseable length)
/// with an OCI error body, then closes the connection. Hummingbird would answer with an
/// empty 400; a client (or its operator) deserves to read what was wrong. Errors in the
/// middle of a request go on to the request's handler as before.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests whose response has not ended yet.
    private var openRequests = 0
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { openRequests += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { openRequests = max(0, openRequests - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, openRequests == 0 else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let (status, message) = Self.describe(parserError)
        let body = ErrorResponse.body(for: RegistryError(.unsupported, message, detail: parserError.debugDescription, status: status.code))
        let head = HTTPResponse(
            status: status,
            headerFields: [.contentType: "application/json", .contentLength: String(body.count), .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private static func describe(_ error: HTTPParserError) -> (HTTPResponse.Status, String) {
        switch error {
        case .headerOverflow: (.requestHeaderFieldsTooLarge, "the request head (request line and headers) is too large")
        case .invalidContentLength: (.badRequest, "invalid Content-Length")
        case .unexpectedContentLength: (.badRequest, "Content-Length where none may be, or beside Transfer-Encoding")
        case .invalidMethod: (.badRequest, "invalid request method")
        case .invalidURL: (.badRequest, "invalid request URL")
        default: (.badRequest, "malformed HTTP request")
        }
    }
}
