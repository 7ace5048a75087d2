import NIOCore

/// Lets a connection read up to 512 KiB at a time (NIO's default stops at 64 KiB) and keep
/// two read buffers for reuse (NIO keeps one per `maxMessagesPerRead`, default four).
///
/// An upload's reads reach the route whole and go to the file as they are (`PartWriter` in
/// KuraStorage gathers them into a part without a copy), so one read of 512 KiB is one part
/// of the filesystem's preferred size: one trip through the HTTP decoder, one hop to the
/// request's task and one write. Against reads of 128 KiB copied into parts that made one
/// 64 MiB push ~25 % faster and sixteen parallel ones ~15 %, at 10–15 % less CPU per GiB
/// (docs/benchmarks.md, 2 December). The cost is memory: an open connection keeps up to two
/// buffers of 512 KiB for reuse (it kept four of 128 KiB), and an upload holds one or two
/// reads more while a part is written; sixteen parallel pushes peaked ~12 MiB higher. The
/// buffer shrinks again when reads are small. An HTTP/2 stream, whose connection reads for
/// it, is left as it is. Passes everything through.
final class LargeReadsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64 << 10, maximum: 512 << 10)
    /// Also how many reads the connection makes in one turn of its event loop before the
    /// request body's queue (``BoundedHTTP1Channel``) can stop it.
    static let pooledReads: UInt = 2

    func handlerAdded(context: ChannelHandlerContext) {
        // An HTTP/2 stream does not read for itself (and traps on the option).
        guard !context.channel.isHTTP2Stream else { return }
        try? context.channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.allocator)
        try? context.channel.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: Self.pooledReads)
    }
}
