import AsyncHTTPClient
import KuraStorage
import NIOCore

/// A blob as another registry sends it: its declared length and its body, read either on the
/// registry client's own connections (``StreamedReadConnections``: up to 1 MiB per socket
/// read) or through async-http-client, which answered when the registry asked to sign in or
/// redirected the read elsewhere.
struct BlobDownload: Sendable {
    /// The `Content-Length` the registry sent, if any.
    let length: Int64?
    let body: Body

    init(_ response: StreamedResponse) {
        length = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        body = Body(streamed: response, client: nil)
    }

    init(_ response: HTTPClientResponse) {
        length = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        body = Body(streamed: nil, client: response.body)
    }

    /// Whether the body comes on the registry client's own connections.
    var readsOwnConnection: Bool { body.streamed != nil }

    /// The body's buffers. Letting go of a streamed body before its end closes its
    /// connection (``StreamedResponse``); a body cut short throws.
    struct Body: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        fileprivate let streamed: StreamedResponse?
        fileprivate let client: HTTPClientResponse.Body?

        struct AsyncIterator: AsyncIteratorProtocol {
            fileprivate let streamed: StreamedResponse?
            fileprivate var client: HTTPClientResponse.Body.AsyncIterator?

            mutating func next() async throws -> ByteBuffer? {
                if let streamed { return try await streamed.stream.next() }
                return try await client?.next()
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(streamed: streamed, client: client?.makeAsyncIterator())
        }
    }
}
