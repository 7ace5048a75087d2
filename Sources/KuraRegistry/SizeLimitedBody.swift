import KuraCore
import NIOCore

/// A body that fails with `SIZE_INVALID` once it delivers more than `limit` bytes, so an
/// endless upload cannot fill the disk.
struct SizeLimitedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int64?

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int64?
        var seen: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            seen += Int64(chunk.readableBytes)
            if let limit, seen > limit {
                throw RegistryError(.sizeInvalid, "blob too large", detail: "limit is \(limit) bytes")
            }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
}
