import Foundation
import KuraCore
import KuraStorage
import KuraTestSupport
import NIOCore

/// A fresh folder under the system temp directory, removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Deterministic pseudo-random bytes.
func testBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] { TestData.bytes(count, seed: seed) }

/// A body stream that delivers `bytes` in pieces of `pieceSize`.
struct ChunkedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let bytes: [UInt8]
    /// The sizes of the pieces, used in turn (a client whose reads arrive unevenly).
    let pieceSizes: [Int]

    init(_ bytes: [UInt8], pieceSize: Int = 4096) {
        self.init(bytes, pieceSizes: [pieceSize])
    }

    init(_ bytes: [UInt8], pieceSizes: [Int]) {
        self.bytes = bytes
        self.pieceSizes = pieceSizes.map { Swift.max(1, $0) }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let bytes: [UInt8]
        let pieceSizes: [Int]
        var position = 0
        var turn = 0
        mutating func next() async throws -> ByteBuffer? {
            guard position < bytes.count else { return nil }
            let end = Swift.min(position + pieceSizes[turn % pieceSizes.count], bytes.count)
            defer {
                position = end
                turn += 1
            }
            return ByteBuffer(bytes: bytes[position..<end])
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(bytes: bytes, pieceSizes: pieceSizes) }
}

/// A body stream that fails after delivering `bytes`, like a client that disconnects.
struct FailingBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    struct Disconnected: Error {}
    let bytes: [UInt8]

    struct AsyncIterator: AsyncIteratorProtocol {
        var pending: [UInt8]?
        mutating func next() async throws -> ByteBuffer? {
            guard let bytes = pending else { throw Disconnected() }
            pending = nil
            return ByteBuffer(bytes: bytes)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pending: bytes) }
}

func collect(_ body: ObjectBody) async throws -> [UInt8] {
    var out: [UInt8] = []
    for try await chunk in body { out.append(contentsOf: chunk.readableBytesView) }
    return out
}

func sha256(_ bytes: [UInt8]) -> Digest { ContentHasher.digest(.sha256, of: bytes) }

/// Files (not directories) under `root/relative`, recursively.
func regularFiles(under path: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
    var files: [String] = []
    while let item = walker.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "\(path)/\(item)", isDirectory: &isDirectory), !isDirectory.boolValue {
            files.append(item)
        }
    }
    return files.sorted()
}
