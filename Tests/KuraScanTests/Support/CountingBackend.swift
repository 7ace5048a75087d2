import Foundation
import KuraStorage
import NIOCore
import Synchronization

/// A backend that counts the objects read through it, in front of a real one: a re-match
/// must read no layer.
final class CountingBackend: ObjectBackend {
    let base: any ObjectBackend
    private let reads = Mutex<[ObjectKey]>([])

    init(_ base: any ObjectBackend) {
        self.base = base
    }

    /// Every key read so far, in order.
    var keysRead: [ObjectKey] { reads.withLock { $0 } }

    var name: String { base.name }
    var minimumPartSize: Int { base.minimumPartSize }
    var preferredPartSize: Int { base.preferredPartSize }

    func put<Body: AsyncSequence & Sendable>(_ key: ObjectKey, body: Body) async throws -> Int64 where Body.Element == ByteBuffer {
        try await base.put(key, body: body)
    }

    func get(_ key: ObjectKey, range: Range<Int64>?) async throws -> ObjectRead {
        reads.withLock { $0.append(key) }
        return try await base.get(key, range: range)
    }

    func stat(_ key: ObjectKey) async throws -> ObjectInfo? { try await base.stat(key) }
    func delete(_ key: ObjectKey) async throws -> Bool { try await base.delete(key) }
    func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        try await base.list(prefix: prefix, startAfter: startAfter, limit: limit)
    }
    func beginAppend(_ key: ObjectKey) async throws -> AppendHandle { try await base.beginAppend(key) }
    func appendPart(_ handle: AppendHandle, number: Int, offset: Int64, data: ByteBuffer) async throws -> AppendedPart {
        try await base.appendPart(handle, number: number, offset: offset, data: data)
    }
    func syncAppend(_ handle: AppendHandle) async throws { try await base.syncAppend(handle) }
    func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64) async throws {
        try await base.completeAppend(handle, parts: parts, size: size)
    }
    func abortAppend(_ handle: AppendHandle) async throws { try await base.abortAppend(handle) }
    func publish(_ staged: ObjectKey, to key: ObjectKey) async throws -> PublishOutcome { try await base.publish(staged, to: key) }
}
