import Hummingbird
import HummingbirdCore
import NIOCore

/// A request body that asks for `100 Continue` (see ``ExpectContinueHandler``) when it is
/// first read, so a client holding its body back sends it only once the route has accepted
/// the request.
struct ExpectContinueBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let channel: any Channel

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let channel: any Channel
        var asked = false

        mutating func next() async throws -> ByteBuffer? {
            if !asked {
                asked = true
                try await channel.triggerUserOutboundEvent(ExpectContinueHandler.SendContinue()).get()
            }
            return try await base.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), channel: channel) }

    /// Wraps the body of every request that sends `Expect: 100-continue`.
    static func responder(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            guard ExpectContinueHandler.expectsContinue(request.headers) else { return try await responder(request, writer, channel) }
            var request = request
            request.body = RequestBody(asyncSequence: ExpectContinueBody(base: request.body, channel: channel))
            try await responder(request, writer, channel)
        }
    }
}
