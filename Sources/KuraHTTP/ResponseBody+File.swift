package import Hummingbird
package import KuraStorage
package import NIOCore

extension ResponseBody {
    /// A body sent by the kernel from `file` (`sendfile`, see ``FileRegionSender``) where the
    /// connection can take files, plain HTTP/1.1; elsewhere (TLS, HTTP/2) the same bytes
    /// streamed from `sequence` as ``streaming(_:writingOn:)`` does. Both run on the
    /// connection's event loop.
    ///
    /// Bytes sent from the file are counted as if written through the body writer (for
    /// access logs, metrics and metering), region by region as each goes to the channel.
    package static func sendingFile<Buffers: AsyncSequence & Sendable>(
        _ file: OpenFileRange, orStreaming sequence: Buffers, on channel: any Channel
    ) -> ResponseBody where Buffers.Element == ByteBuffer {
        writtenOn(channel.eventLoop) { writer in
            let counter = writer as? any SentAsideCounting
            let sent = try await FileRegionSender.send(file, on: channel) { counter?.countSentAside($0) }
            if !sent { try await writer.write(sequence) }
            try await writer.finish(nil)
        }
    }
}
