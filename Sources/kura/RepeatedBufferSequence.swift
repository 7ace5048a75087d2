import NIOCore

/// `total` bytes made of one buffer repeated: a data source that costs nothing to produce,
/// so a benchmark measures the consumer.
struct RepeatedBufferSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let buffer: ByteBuffer
    let total: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: ByteBuffer
        var remaining: Int64

        mutating func next() async -> ByteBuffer? {
            guard remaining > 0 else { return nil }
            let count = Int(Swift.min(Int64(buffer.readableBytes), remaining))
            remaining -= Int64(count)
            return buffer.getSlice(at: buffer.readerIndex, length: count)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: buffer, remaining: total) }

    /// A buffer of pseudo-random bytes (xorshift; content does not affect SHA-256 speed).
    static func randomBuffer(size: Int) -> ByteBuffer {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        for _ in 0..<(size / 8) {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            buffer.writeInteger(state)
        }
        return buffer
    }
}
