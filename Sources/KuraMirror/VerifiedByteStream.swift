import KuraCore
import NIOCore
import KuraStorage

/// The body of a blob on its way from a source to a target: hashed and counted as it passes,
/// paced by an optional rate limiter, and with the last buffer held back until the whole
/// content has been checked. A source that sends other bytes than the digest names, or too
/// few or too many, makes the stream fail before its end, so the target never receives a
/// complete body and commits nothing.
struct VerifiedByteStream<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer

    let base: Base
    let digest: Digest
    let size: Int64
    let limiter: ByteRateLimiter?
    /// Called with each buffer's size once it has been handed on.
    let onBytes: @Sendable (Int) -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let digest: Digest
        let size: Int64
        let limiter: ByteRateLimiter?
        let onBytes: @Sendable (Int) -> Void
        var digester: ContentHasher
        var received: Int64 = 0
        var pending: ByteBuffer?
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            while true {
                guard let buffer = try await base.next() else {
                    finished = true
                    guard received == size else {
                        throw MirrorError.sizeMismatch(digest: digest.description, expected: size, actual: received)
                    }
                    let actual = digester.finalize()
                    guard actual == digest else {
                        throw MirrorError.digestMismatch(expected: digest.description, actual: actual.description)
                    }
                    return try await handOn(pending)
                }
                guard buffer.readableBytes > 0 else { continue }
                received += Int64(buffer.readableBytes)
                if received > size {
                    finished = true
                    throw MirrorError.sizeMismatch(digest: digest.description, expected: size, actual: received)
                }
                digester.update(buffer)
                // Each buffer takes the hold-back slot and releases the one before it.
                let previous = pending
                pending = buffer
                if let previous { return try await handOn(previous) }
            }
        }

        private func handOn(_ buffer: ByteBuffer?) async throws -> ByteBuffer? {
            guard let buffer else { return nil }
            try await limiter?.take(buffer.readableBytes)
            onBytes(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            base: base.makeAsyncIterator(), digest: digest, size: size, limiter: limiter, onBytes: onBytes,
            digester: ContentHasher(digest.algorithm))
    }
}
