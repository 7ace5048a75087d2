import KuraCore
import KuraStorage
import NIOCore

/// One blob on its way from an upstream into the local store, shared by every client that
/// asks for it meanwhile.
///
/// The fill keeps a window of at most `window` bytes (plus the buffer arriving). While the
/// window is not full, nothing is dropped, so clients that join before its first byte is
/// dropped get everything from the start; later ones wait for the blob to be stored and read
/// it from there. Once the window is full, its oldest buffer is dropped only after every
/// client has read it: the slowest client paces the upstream (and the store) instead of
/// memory growing. A client that takes nothing for `stallTimeout` while the window is full
/// is cut off, so one stalled client cannot hold the others forever.
///
/// The buffer that completes the blob reaches clients only once the store has found the
/// whole blob's digest and size right (``withhold(_:)``, ``release()``), so a lying upstream
/// never delivers a complete body. The store's own hash is the check: the bytes are hashed
/// once, not once for the clients and again for the store. Clients do not wait for the store
/// to make the blob durable.
actor BlobFill {
    struct StalledReader: Error, CustomStringConvertible {
        var description: String { "the client read nothing while the fill waited for it; cut off" }
    }

    let window: Int
    let stallTimeout: Duration
    let gauge: FillMemoryGauge

    private var size: Int64?
    /// Buffers still held; `buffers[0]` is buffer number `firstIndex` of the blob.
    private var buffers: [ByteBuffer] = []
    private var bufferedBytes = 0
    /// The buffer that completes the blob, until the store has verified the blob.
    private var withheld: ByteBuffer?
    /// The store verified the blob and every buffer is here: readers end at the last one.
    private var complete = false
    private var firstIndex = 0
    private var endIndex: Int { firstIndex + buffers.count }
    /// Each reader's next buffer number.
    private var readers: [Int: Int] = [:]
    private var nextReaderID = 0
    private var cutOff: Set<Int> = []
    private var readerWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var producerWaiter: CheckedContinuation<Void, Never>?
    private var stallTimer: Task<Void, Never>?
    private var outcome: Result<Void, any Error>?
    private var sizeWaiters: [CheckedContinuation<Int64?, Never>] = []
    private var doneWaiters: [CheckedContinuation<Void, any Error>] = []

    init(window: Int, stallTimeout: Duration, gauge: FillMemoryGauge) {
        self.window = window
        self.stallTimeout = stallTimeout
        self.gauge = gauge
    }

    /// The upstream answered: the blob has `size` bytes.
    func started(size: Int64) {
        self.size = size
        for waiter in sizeWaiters { waiter.resume(returning: size) }
        sizeWaiters.removeAll()
    }

    /// A buffer passed verification so far: hold it for the readers. Returns once the window
    /// has room again (at once, unless a reader lags a full window behind).
    func deliver(_ buffer: ByteBuffer) async {
        hold(buffer)
        wakeReaders()
        dropReadBuffers()
        while bufferedBytes > window, outcome == nil {
            await waitForSlowestReader()
            dropReadBuffers()
        }
    }

    /// The buffer that completes the blob: readers get it only after ``release()``.
    func withhold(_ buffer: ByteBuffer) {
        withheld = buffer
    }

    /// The store found the blob's digest and size right: readers get the withheld buffer,
    /// then the end of the blob, without waiting for the store to keep it.
    func release() {
        if let last = withheld {
            // Past the window by one buffer at most, as while a buffer arrives.
            hold(last)
            withheld = nil
        }
        complete = true
        wakeReaders()
    }

    /// The fill ended: stored, or failed (upstream broke, lied, or storage refused; a
    /// withheld last buffer is dropped).
    func finish(_ result: Result<Void, any Error>) {
        withheld = nil
        outcome = result
        wakeReaders()
        releaseIfUnread()
        for waiter in sizeWaiters { waiter.resume(returning: nil) }
        sizeWaiters.removeAll()
        for waiter in doneWaiters { waiter.resume(with: result) }
        doneWaiters.removeAll()
    }

    /// The blob's size and a stream of all its bytes, read at the client's pace, or nil when
    /// the fill already dropped its first buffer or is over (then ``stored()`` and read the
    /// local copy).
    func subscribe() async -> (Int64, AsyncThrowingStream<ByteBuffer, any Error>)? {
        let knownSize: Int64?
        if let size { knownSize = size } else if outcome != nil { knownSize = nil } else {
            knownSize = await withCheckedContinuation { sizeWaiters.append($0) }
        }
        guard let knownSize, outcome == nil, firstIndex == 0 else { return nil }
        let id = nextReaderID
        nextReaderID += 1
        readers[id] = 0
        let lease = ReaderLease(fill: self, id: id)
        // Pull-based: nothing is queued per client; each `next()` takes the reader's next buffer.
        let stream = AsyncThrowingStream<ByteBuffer, any Error> { try await lease.next() }
        return (knownSize, stream)
    }

    /// Waits until the blob is stored; throws the fill's failure.
    func stored() async throws {
        if let outcome { return try outcome.get() }
        try await withCheckedThrowingContinuation { doneWaiters.append($0) }
    }

    /// Reader `id`'s next buffer; nil at the end.
    func next(_ id: Int) async throws -> ByteBuffer? {
        while true {
            guard let position = readers[id] else {
                if cutOff.contains(id) { throw StalledReader() }
                return nil
            }
            if position < endIndex {
                readers[id] = position + 1
                if position == firstIndex, !readers.values.contains(firstIndex) { slowestReaderMoved() }
                return buffers[position - firstIndex]
            }
            if complete {
                leave(id)
                return nil
            }
            if let outcome {
                leave(id)
                try outcome.get()
                return nil
            }
            await withCheckedContinuation { readerWaiters[id] = $0 }
        }
    }

    /// Reader `id` is gone (read to the end, or its client went away).
    func leave(_ id: Int) {
        guard readers.removeValue(forKey: id) != nil else { return }
        readerWaiters.removeValue(forKey: id)?.resume()
        slowestReaderMoved()
        releaseIfUnread()
    }

    /// Keeps `buffer` for the readers, counted against the window.
    private func hold(_ buffer: ByteBuffer) {
        buffers.append(buffer)
        bufferedBytes += buffer.readableBytes
        gauge.add(buffer.readableBytes)
    }

    /// Drops the oldest buffers every reader has read, while the window is over its size.
    private func dropReadBuffers() {
        while bufferedBytes > window, let first = buffers.first, !readers.values.contains(firstIndex) {
            buffers.removeFirst()
            firstIndex += 1
            bufferedBytes -= first.readableBytes
            gauge.add(-first.readableBytes)
        }
    }

    /// After the fill ended and no reader is left, nothing needs the buffers.
    private func releaseIfUnread() {
        guard outcome != nil, readers.isEmpty else { return }
        gauge.add(-bufferedBytes)
        firstIndex = endIndex
        buffers.removeAll()
        bufferedBytes = 0
    }

    private func wakeReaders() {
        for waiter in readerWaiters.values { waiter.resume() }
        readerWaiters.removeAll()
    }

    private func waitForSlowestReader() async {
        await withCheckedContinuation { continuation in
            producerWaiter = continuation
            stallTimer = Task { [stallTimeout] in
                do { try await Task.sleep(for: stallTimeout) } catch { return }
                self.cutOffSlowestReaders()
            }
        }
    }

    private func slowestReaderMoved() {
        stallTimer?.cancel()
        stallTimer = nil
        producerWaiter?.resume()
        producerWaiter = nil
    }

    private func cutOffSlowestReaders() {
        guard producerWaiter != nil else { return }
        for (id, position) in readers where position == firstIndex {
            readers[id] = nil
            cutOff.insert(id)
            readerWaiters.removeValue(forKey: id)?.resume()
        }
        slowestReaderMoved()
    }
}

/// One client's hold on a ``BlobFill``: when its stream goes away (the client read to the
/// end or disconnected), the fill stops waiting for it.
private final class ReaderLease: Sendable {
    let fill: BlobFill
    let id: Int

    init(fill: BlobFill, id: Int) {
        self.fill = fill
        self.id = id
    }

    func next() async throws -> ByteBuffer? { try await fill.next(id) }

    deinit {
        let (fill, id) = (fill, id)
        Task { await fill.leave(id) }
    }
}

/// A byte stream that shows each buffer to a ``BlobFill`` on its way to the store, except
/// the one that completes the blob's declared `size`: that one the fill withholds until the
/// store has verified the blob (``BlobFill/release()``). A byte past `size` fails the stream.
struct FillTee<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let fill: BlobFill
    let size: Int64
    let digest: Digest

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let fill: BlobFill
        let size: Int64
        let digest: Digest
        var passed: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            // An empty buffer after the last one must not take its place.
            guard buffer.readableBytes > 0 else { return buffer }
            passed += Int64(buffer.readableBytes)
            if passed < size {
                await fill.deliver(buffer)
            } else if passed == size {
                await fill.withhold(buffer)
            } else {
                throw DigestVerificationError.sizeMismatch(digest: digest, expected: size, actual: passed)
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), fill: fill, size: size, digest: digest)
    }
}
