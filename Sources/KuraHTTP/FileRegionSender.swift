import KuraStorage
import NIOCore
import NIOHTTP1

/// Lets a response body on a plain HTTP/1.1 connection be a range of a file sent by the
/// kernel (`sendfile`), so a blob GET's bytes go from the page cache to the socket without
/// being read into the server's memory and written out again.
///
/// It sits where body parts are `IOData` and may be file regions: between NIO's HTTP/1
/// encoder and the HTTP-types codec that Hummingbird writes through (``BoundedHTTP1Channel``
/// adds it; TLS and HTTP/2 connections have none, their bytes must pass through user space).
/// Every part written by Hummingbird passes unchanged. A region handed to ``send(_:on:handedOver:)`` joins
/// the response being written: if its head has not reached this handler yet (Hummingbird's
/// writer hands parts to the loop asynchronously), the region waits for it, so body bytes can
/// never overtake their head; the response's end, written after the send completed, follows.
final class FileRegionSender: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var context: ChannelHandlerContext?
    /// A final (non-1xx) head has passed and its end has not.
    private var responseOpen = false
    private var waiting: [(region: FileRegion, promise: EventLoopPromise<Void>)] = []

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        failWaiting(ChannelError.ioOnClosedChannel)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            context.write(data, promise: promise)
            responseOpen = true
            if !waiting.isEmpty {
                let regions = waiting
                waiting = []
                for (region, promise) in regions { context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: promise) }
                context.flush()
            }
        case .end:
            responseOpen = false
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode != .input { failWaiting(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }

    /// Writes `region` as body bytes of the response being sent, and flushes. The future
    /// succeeds once the kernel has taken every byte, and fails if the connection closes
    /// first.
    func send(_ region: FileRegion, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        let promise = eventLoop.makePromise(of: Void.self)
        if responseOpen {
            context.writeAndFlush(wrapOutboundOut(.body(.fileRegion(region))), promise: promise)
        } else {
            waiting.append((region, promise))
        }
        return promise.futureResult
    }

    private func failWaiting(_ error: any Error) {
        let regions = waiting
        waiting = []
        for (_, promise) in regions { promise.fail(error) }
    }
}

extension FileRegionSender {
    /// Regions a file is sent in, at most ``regionsInFlight`` handed to the channel at once:
    /// a region counts as sent when it is handed over, as a buffer does when the channel takes
    /// it, so a client that leaves mid-download is metered for at least what it received and
    /// at most that plus two regions and the socket buffers, not for the whole blob.
    static let regionBytes: Int64 = 4 << 20
    static let regionsInFlight = 2

    /// Sends `file` as the body of the response being written on `channel` and answers
    /// `true`; answers `false`, having sent nothing, when the connection cannot take files
    /// (it has no sender: TLS, HTTP/2) or this code does not run on its event loop.
    /// `handedOver` is told the bytes of each region as it goes to the channel.
    static func send(_ file: OpenFileRange, on channel: any Channel, handedOver: (Int64) -> Void) async throws -> Bool {
        let eventLoop = channel.eventLoop
        guard eventLoop.inEventLoop, let handler = try? channel.pipeline.syncOperations.handler(type: FileRegionSender.self) else {
            return false
        }
        let sender = NIOLoopBound(handler, eventLoop: eventLoop)
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: try file.duplicateDescriptor())
        // The regions share one descriptor: it is closed once NIO is done with every region
        // handed over, sent or failed with the connection.
        var inFlight: [EventLoopFuture<Void>] = []
        var failure: (any Error)?
        var offset = file.range.lowerBound
        while offset < file.range.upperBound, failure == nil {
            if inFlight.count == regionsInFlight {
                do { try await inFlight.removeFirst().get() } catch {
                    failure = error
                    break
                }
            }
            let end = min(offset + regionBytes, file.range.upperBound)
            let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(end))
            inFlight.append(
                eventLoop.inEventLoop
                    ? sender.value.send(region, on: eventLoop) : eventLoop.flatSubmit { sender.value.send(region, on: eventLoop) })
            handedOver(end - offset)
            offset = end
        }
        for write in inFlight {
            do { try await write.get() } catch { failure = failure ?? error }
        }
        try? handle.close()
        if let failure { throw failure }
        return true
    }
}
