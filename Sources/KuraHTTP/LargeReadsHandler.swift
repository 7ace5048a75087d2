import NIOCore

/// Lets a connection read up to 128 KiB at a time (NIO's default stops at 64 KiB). An upload
/// then reaches the route in half as many pieces, each a trip through the HTTP decoder
/// and a hop to the request's task; the buffer shrinks again when reads are small. Not more:
/// the request body stream queues up to two reads per connection (``BoundedHTTP1Channel``),
/// and each concurrent upload holds that much. The smallest upload part (the floor of
/// `UploadBufferBudget` in KuraStorage) is this maximum, so full reads reach the disk uncopied.
/// An HTTP/2 stream, whose connection reads for it, is left as it is. Passes everything
/// through.
final class LargeReadsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64 << 10, maximum: 128 << 10)

    func handlerAdded(context: ChannelHandlerContext) {
        // An HTTP/2 stream does not read for itself (and traps on the option).
        guard !context.channel.isHTTP2Stream else { return }
        try? context.channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.allocator)
    }
}
