public import NIOCore
public import NIOHTTP1
import Synchronization

/// The response to a streamed GET, read ahead on the connection's event loop.
///
/// The connection (``StreamedReadHandler``) keeps reading while less than ``readAhead`` bytes
/// wait, so a reader that keeps up takes queued buffers without suspending and the
/// connection reads without waiting for it; past ``readAhead`` the connection pauses until the
/// reader has taken half. Pieces that wait are handed over joined, up to ``mergeLimit`` bytes
/// at a time.
public final class StreamedBody: Sendable {
    private struct State {
        var head: HTTPResponseHead?
        var headWaiter: CheckedContinuation<HTTPResponseHead, any Error>?
        var queue = CircularBuffer<ByteBuffer>()
        var queuedBytes = 0
        var paused: EventLoopPromise<Void>?
        var bodyWaiter: CheckedContinuation<ByteBuffer?, any Error>?
        var finished = false
        var error: (any Error)?
    }

    let readAhead: Int
    private let state = Mutex(State())

    init(readAhead: Int) { self.readAhead = readAhead }

    /// Bytes received and not yet taken by the reader.
    var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    /// Whether the response has ended, whole or broken off.
    var isFinished: Bool { state.withLock { $0.finished } }

    // MARK: the connection's side

    func receive(head: HTTPResponseHead) {
        let waiter = state.withLock { state in
            state.head = head
            defer { state.headWaiter = nil }
            return state.headWaiter
        }
        waiter?.resume(returning: head)
    }

    /// Takes a piece of the body. Returns a future to wait for before reading more when the
    /// read-ahead is full, `nil` to go on reading.
    func receive(_ buffer: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void>? {
        enum Next {
            case handed(CheckedContinuation<ByteBuffer?, any Error>)
            case queued
            case pause(EventLoopPromise<Void>)
        }
        let next: Next = state.withLock { state in
            if let waiter = state.bodyWaiter {
                state.bodyWaiter = nil
                return .handed(waiter)
            }
            state.queue.append(buffer)
            state.queuedBytes += buffer.readableBytes
            guard state.queuedBytes >= readAhead else { return .queued }
            // Pieces of a read already under way still arrive after the pause: same wait.
            if let paused = state.paused { return .pause(paused) }
            let promise = eventLoop.makePromise(of: Void.self)
            state.paused = promise
            return .pause(promise)
        }
        switch next {
        case .handed(let waiter):
            waiter.resume(returning: buffer)
            return nil
        case .queued:
            return nil
        case .pause(let promise):
            return promise.futureResult
        }
    }

    /// The response ended: whole when `error` is `nil`, else broken off by it.
    func end(_ error: (any Error)?) {
        let (headWaiter, bodyWaiter, paused) = state.withLock { state in
            state.finished = true
            if state.error == nil { state.error = error }
            defer { (state.headWaiter, state.bodyWaiter, state.paused) = (nil, nil, nil) }
            return (state.headWaiter, state.bodyWaiter, state.paused)
        }
        if let error {
            headWaiter?.resume(throwing: error)
            bodyWaiter?.resume(throwing: error)
        } else {
            headWaiter?.resume(throwing: StreamedReadError.connectionClosed)  // a response without a head
            bodyWaiter?.resume(returning: nil)
        }
        paused?.succeed()
    }

    // MARK: the reader's side

    /// Waits for the response head.
    func head() async throws -> HTTPResponseHead {
        try await withCheckedThrowingContinuation { continuation in
            enum Now {
                case head(HTTPResponseHead)
                case failed(any Error)
                case wait
            }
            let now: Now = state.withLock { state in
                if let head = state.head { return .head(head) }
                if state.finished { return .failed(state.error ?? StreamedReadError.connectionClosed) }
                state.headWaiter = continuation
                return .wait
            }
            switch now {
            case .head(let head): continuation.resume(returning: head)
            case .failed(let error): continuation.resume(throwing: error)
            case .wait: break
            }
        }
    }

    /// The next body buffer, or `nil` at the end; throws if the response broke off.
    public func next() async throws -> ByteBuffer? {
        enum Now {
            case buffer(ByteBuffer, resume: EventLoopPromise<Void>?)
            case buffers([ByteBuffer], bytes: Int, resume: EventLoopPromise<Void>?)
            case end
            case failed(any Error)
            case wait
        }
        let mergeLimit = Self.mergeLimit
        func take(_ state: inout State) -> Now {
            if let buffer = state.queue.popFirst() {
                state.queuedBytes -= buffer.readableBytes
                var taken: [ByteBuffer] = []
                var bytes = buffer.readableBytes
                while let following = state.queue.first, bytes + following.readableBytes <= mergeLimit {
                    if taken.isEmpty { taken.append(buffer) }
                    taken.append(state.queue.removeFirst())
                    bytes += following.readableBytes
                    state.queuedBytes -= following.readableBytes
                }
                var resume: EventLoopPromise<Void>?
                if state.queuedBytes <= readAhead / 2 {
                    resume = state.paused
                    state.paused = nil
                }
                return taken.isEmpty ? .buffer(buffer, resume: resume) : .buffers(taken, bytes: bytes, resume: resume)
            }
            if state.finished {
                if let error = state.error { return .failed(error) }
                return .end
            }
            return .wait
        }
        switch state.withLock({ take(&$0) }) {
        case .buffer(let buffer, let resume):
            resume?.succeed()
            return buffer
        case .buffers(let buffers, let bytes, let resume):
            resume?.succeed()
            return Self.merge(buffers, bytes: bytes)
        case .end: return nil
        case .failed(let error): throw error
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let now: Now = state.withLock { state in
                    let now = take(&state)
                    if case .wait = now { state.bodyWaiter = continuation }
                    return now
                }
                switch now {
                case .buffer(let buffer, let resume):
                    resume?.succeed()
                    continuation.resume(returning: buffer)
                case .buffers(let buffers, let bytes, let resume):
                    resume?.succeed()
                    continuation.resume(returning: Self.merge(buffers, bytes: bytes))
                case .end: continuation.resume(returning: nil)
                case .failed(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        }
    }

    /// The most bytes ``next()`` joins into one buffer from pieces that wait in the queue: one
    /// write to the client and one hop for many socket reads, for one copy.
    static let mergeLimit = 1 << 20

    private static func merge(_ buffers: [ByteBuffer], bytes: Int) -> ByteBuffer {
        var merged = ByteBufferAllocator().buffer(capacity: bytes)
        for buffer in buffers { merged.writeImmutableBuffer(buffer) }
        return merged
    }

    /// Reads the (small) rest of the body, up to `limit` bytes.
    public func collect(upTo limit: Int) async throws -> ByteBuffer {
        var all = ByteBuffer()
        while let buffer = try await next() {
            guard all.readableBytes + buffer.readableBytes <= limit else { throw StreamedBodyError.bodyTooLarge(limit) }
            all.writeImmutableBuffer(buffer)
        }
        return all
    }
}

public enum StreamedBodyError: Error, CustomStringConvertible {
    case bodyTooLarge(Int)

    public var description: String {
        switch self {
        case .bodyTooLarge(let limit): "response body larger than \(limit) bytes"
        }
    }
}

/// A streamed GET in flight: its head, its body, and the connection carrying it, which is
/// closed when the reader lets go of the response before its end (a client that went away
/// stops the transfer; a connection with half a body left cannot carry another request).
public final class StreamedResponse: Sendable {
    public let head: HTTPResponseHead
    public let stream: StreamedBody
    private let channel: any Channel

    init(head: HTTPResponseHead, stream: StreamedBody, channel: any Channel) {
        self.head = head
        self.stream = stream
        self.channel = channel
    }

    public var status: HTTPResponseStatus { head.status }
    public var headers: HTTPHeaders { head.headers }

    deinit {
        if !stream.isFinished { channel.triggerUserOutboundEvent(StreamedReadHandler.Abandon(stream: stream), promise: nil) }
    }
}
