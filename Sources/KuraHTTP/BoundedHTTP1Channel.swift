package import HummingbirdCore
package import Logging
package import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's ``HTTP1Channel`` with a shorter inbound queue: the request body stream holds
/// at most two reads of a connection (NIO's default is ten) before the connection stops
/// reading. Each read is up to 128 KiB (``LargeReadsHandler``), so every concurrent upload
/// holds 256 KiB of queued reads instead of 1.25 MiB. A longer queue bought no throughput:
/// four reads instead of two gave the same push speed and ~2 % less CPU per GiB on one
/// stream, and 3.3 MiB more peak memory over sixteen parallel pushes. The pipeline is
/// Hummingbird's own (same handlers, same order); requests are handled by `HTTP1Channel`.
package struct BoundedHTTP1Channel: ServerChildChannel {
    package typealias Value = HTTP1Channel.Value

    /// Reading resumes when the queue is down to `low` reads and stops at `high`.
    static let inboundQueue = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(lowWatermark: 1, highWatermark: 2)

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
