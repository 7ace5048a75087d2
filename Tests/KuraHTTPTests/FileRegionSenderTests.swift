import Foundation
@testable import KuraHTTP
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// A file region handed to the sender before its response's head has reached it waits for
/// that head: body bytes never overtake their head, and a `100 Continue` is not that head.
@Suite("HTTP: file region ordering")
struct FileRegionSenderTests {
    @Test func aRegionSentBeforeItsHeadFollowsTheFinalHead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-region-\(UUID().uuidString)").path
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try NIOFileHandle(_deprecatedPath: path)
        defer { try? handle.close() }

        let sender = FileRegionSender()
        let channel = EmbeddedChannel(handler: sender)
        let sent = sender.send(FileRegion(fileHandle: handle, readerIndex: 10, endIndex: 60), on: channel.eventLoop)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil, "nothing goes out before a head")

        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
        let interim = try channel.readOutbound(as: HTTPServerResponsePart.self)
        guard case .head(let continueHead) = interim else { Issue.record("expected the 100 head, got \(String(describing: interim))"); return }
        #expect(continueHead.status == .continue)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil, "an interim head does not release the region")

        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("expected the final head first")
            return
        }
        #expect(head.status == .ok)
        guard case .body(.fileRegion(let region)) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("expected the file region right after its head")
            return
        }
        #expect(region.readerIndex == 10 && region.endIndex == 60)
        try sent.wait()
        #expect(try channel.finish().isClean)
    }
}
