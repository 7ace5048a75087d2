public import NIOCore
public import NIOHTTP1
public import NIOPosix
public import NIOSSL
import Synchronization

/// Keep-alive connections to one HTTP server for streamed GETs of large bodies, apart from
/// async-http-client (which carries every other call): S3 GetObject, and the blobs a
/// pull-through cache or a mirror reads from another registry.
///
/// They exist for one setting async-http-client does not offer: how much a read of the socket
/// may take. NIO's default stops at 64 KiB, and each piece of a body then costs a trip
/// through the HTTP parser, the read-ahead's lock and a hand-over to the reader; reading up to
/// ``maximumRead`` at a time took the server's CPU per GiB read from S3 down by 35–45 % in
/// docs/benchmarks.md's runs. They send what they are given and follow nothing: redirects,
/// authentication challenges and retries are the caller's. Connections in use are not capped (async-http-client made reads
/// past 64 wait for one): each concurrent read holds one, and the listeners' connection caps
/// bound how many reads run at once.
public final class StreamedReadConnections: Sendable {
    /// How much one read of the socket may take; the buffer shrinks again when reads are small.
    static let maximumRead = 1 << 20
    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64 << 10, maximum: maximumRead)
    /// Idle connections kept for the next reads; more are closed when returned.
    static let maximumIdle = 64

    private let host: String
    private let port: Int
    private let tls: TLSConfiguration?
    /// The TLS context, made at the first connection (loading the trust roots costs time and
    /// memory, and many clients never read a blob).
    private let tlsContext = Mutex<Result<NIOSSLContext, any Error>?>(nil)
    private let serverHostname: String?
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    private let group: any EventLoopGroup
    private let idle = Mutex<[any Channel]>([])
    private let opened = Atomic<Int>(0)

    /// Connections to `host:port`, over TLS when `tls` is given (S3Client gives
    /// `.makeClientConfiguration()`: the system's roots and `host` verified, as
    /// async-http-client's defaults do).
    public init(
        host: String, port: Int, tls: TLSConfiguration?, connectTimeout: TimeAmount = .seconds(3),
        readTimeout: TimeAmount = .seconds(60), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        // SNI carries names only; an address is verified without it.
        self.serverHostname = tls != nil && (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.group = group
    }

    deinit {
        for channel in idle.withLock({ $0 }) { channel.close(promise: nil) }
    }

    /// Connections opened so far (reused ones count once).
    public var openedCount: Int { opened.load(ordering: .relaxed) }

    /// Sends a GET and waits for its response head. A kept connection that the server closed
    /// while it was idle fails before any response; the request then goes again on a new one.
    public func open(_ head: HTTPRequestHead, readAhead: Int, deadline: NIODeadline) async throws -> StreamedResponse {
        while let channel = takeIdle() {
            do {
                return try await exchange(head, readAhead: readAhead, deadline: deadline, on: channel)
            } catch StreamedReadError.connectionClosed where !Task.isCancelled {
                continue
            }
        }
        return try await exchange(head, readAhead: readAhead, deadline: deadline, on: connect())
    }

    private func exchange(_ head: HTTPRequestHead, readAhead: Int, deadline: NIODeadline, on channel: any Channel)
        async throws -> StreamedResponse
    {
        let stream = StreamedBody(readAhead: readAhead)
        let request = StreamedReadRequest(head: head, stream: stream, deadline: deadline) { [weak self] in
            self?.keep(channel)
        }
        // A connection closed under the request never reaches the handler: end the stream here.
        channel.writeAndFlush(request).whenFailure { _ in stream.end(StreamedReadError.connectionClosed) }
        let response = try await withTaskCancellationHandler {
            try await stream.head()
        } onCancel: {
            channel.triggerUserOutboundEvent(StreamedReadHandler.Abandon(stream: stream), promise: nil)
        }
        return StreamedResponse(head: response, stream: stream, channel: channel)
    }

    /// A new connection, returned once it can carry a request (after the TLS handshake).
    private func connect() async throws -> any Channel {
        let tls = try tls.map { configuration in
            try tlsContext.withLock { context in
                if let context { return context }
                let made = Result { try NIOSSLContext(configuration: configuration) }
                context = made
                return made
            }.get()
        }
        let (serverHostname, readTimeout) = (serverHostname, readTimeout)
        let loop = group.next()
        let ready = loop.makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(connectTimeout)
                .channelOption(ChannelOptions.recvAllocator, value: Self.allocator)
                // One read per wake-up: a paused stream then receives at most one more read.
                .channelOption(ChannelOptions.maxMessagesPerRead, value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let tls { try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname)) }
                        try pipeline.addHTTPClientHandlers()
                        try pipeline.addHandler(IdleStateHandler(readTimeout: readTimeout))
                        try pipeline.addHandler(StreamedReadHandler(ready: ready, secure: tls != nil))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            ready.fail(error)
            throw error
        }
        do {
            try await ready.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        opened.add(1, ordering: .relaxed)
        return channel
    }

    private func takeIdle() -> (any Channel)? {
        idle.withLock { idle in
            while let channel = idle.popLast() {
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    private func keep(_ channel: any Channel) {
        let kept = idle.withLock { idle in
            idle.removeAll { !$0.isActive }
            guard idle.count < Self.maximumIdle else { return false }
            idle.append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }
}
