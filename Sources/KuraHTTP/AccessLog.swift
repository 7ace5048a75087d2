import Foundation
package import Logging
import NIOPosix
import ServiceLifecycle

/// Structured access logs: one JSON object per line per request, written to a file or
/// standard output by a background service, never on the request's event loop.
package final class AccessLog: Service, Sendable {
    /// One request, as logged.
    struct Entry: Encodable, Sendable {
        var time: Date
        var requestID: String
        var account: String?
        var accessKeyID: String?
        var method: String
        var route: String
        var path: String
        var status: Int
        var bytesIn: Int64
        var bytesOut: Int64
        var durationMs: Double
        var remoteAddress: String?
    }

    private let destination: String?
    private let logger: Logger
    private let stream: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation

    /// `path` nil writes to standard output. At most `capacity` entries wait; beyond that the
    /// oldest are dropped rather than slowing requests.
    package init(path: String?, logger: Logger, capacity: Int = 10_000) {
        destination = path
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: Entry.self, bufferingPolicy: .bufferingNewest(capacity))
    }

    func log(_ entry: Entry) {
        continuation.yield(entry)
    }

    package func run() async throws {
        let handle = try await NIOThreadPool.singleton.runIfActive { [destination] () throws -> FileHandle in
            guard let destination else { return FileHandle.standardOutput }
            if !FileManager.default.fileExists(atPath: destination) {
                _ = FileManager.default.createFile(atPath: destination, contents: nil)
            }
            guard let handle = FileHandle(forWritingAtPath: destination) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: destination])
            }
            handle.seekToEndOfFile()
            return handle
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Ends when the stream is finished at graceful shutdown, after writing what is queued.
        await withGracefulShutdownHandler {
            var lines = Data()
            for await entry in stream {
                guard let json = try? encoder.encode(entry) else { continue }
                lines.append(json)
                lines.append(0x0A)
                let batch = lines
                lines.removeAll(keepingCapacity: true)
                do {
                    try await NIOThreadPool.singleton.runIfActive { handle.write(batch) }
                } catch {
                    logger.error("access log write failed", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
    }
}
