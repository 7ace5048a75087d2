import NIOCore

/// One blob on its way from an upstream into the local store, shared by every client that
/// asks for it meanwhile. Clients that join before the first `replayLimit` bytes have passed
/// get the bytes already seen, then the rest as it arrives; later ones wait for the blob to
/// be stored and read it from there. The last buffer reaches clients only once the whole
/// blob hashed to its digest (see ``VerifiedByteStream``), so a lying upstream never
/// delivers a complete body.
actor BlobFill {
    /// Bytes kept for clients that join late (beyond this they wait for the stored blob).
    let replayLimit: Int

    private var size: Int64?
    private var replay: [ByteBuffer]? = []
    private var replayBytes = 0
    private var subscribers: [AsyncThrowingStream<ByteBuffer, any Error>.Continuation] = []
    private var outcome: Result<Void, any Error>?
    private var sizeWaiters: [CheckedContinuation<Int64?, Never>] = []
    private var doneWaiters: [CheckedContinuation<Void, any Error>] = []

    init(replayLimit: Int) { self.replayLimit = replayLimit }

    /// The upstream answered: the blob has `size` bytes.
    func started(size: Int64) {
        self.size = size
        for waiter in sizeWaiters { waiter.resume(returning: size) }
        sizeWaiters.removeAll()
    }

    /// A buffer passed verification so far; hand it to every subscriber.
    func deliver(_ buffer: ByteBuffer) {
        for subscriber in subscribers { subscriber.yield(buffer) }
        if replay != nil {
            replayBytes += buffer.readableBytes
            if replayBytes > replayLimit { replay = nil } else { replay?.append(buffer) }
        }
    }

    /// The fill ended: stored, or failed (upstream broke, lied, or storage refused).
    func finish(_ result: Result<Void, any Error>) {
        outcome = result
        for subscriber in subscribers {
            switch result {
            case .success: subscriber.finish()
            case .failure(let error): subscriber.finish(throwing: error)
            }
        }
        subscribers.removeAll()
        replay = nil
        for waiter in sizeWaiters { waiter.resume(returning: nil) }
        sizeWaiters.removeAll()
        for waiter in doneWaiters { waiter.resume(with: result) }
        doneWaiters.removeAll()
    }

    /// The blob's size and a stream of all its bytes, or nil when the fill is past its replay
    /// window or over (then ``stored()`` and read the local copy).
    func subscribe() async -> (Int64, AsyncThrowingStream<ByteBuffer, any Error>)? {
        let knownSize: Int64?
        if let size { knownSize = size } else if outcome != nil { knownSize = nil } else {
            knownSize = await withCheckedContinuation { sizeWaiters.append($0) }
        }
        guard let knownSize, outcome == nil, let replay else { return nil }
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        for buffer in replay { continuation.yield(buffer) }
        subscribers.append(continuation)
        return (knownSize, stream)
    }

    /// Waits until the blob is stored; throws the fill's failure.
    func stored() async throws {
        if let outcome { return try outcome.get() }
        try await withCheckedThrowingContinuation { doneWaiters.append($0) }
    }
}

/// A byte stream that shows each buffer to a ``BlobFill`` on its way to the store.
struct FillTee<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let fill: BlobFill

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let fill: BlobFill

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            await fill.deliver(buffer)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), fill: fill) }
}
