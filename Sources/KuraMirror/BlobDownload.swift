import AsyncHTTPClient
import KuraStorage
import NIOCore
import NIOHTTP1

/// A blob as another registry sends it: its declared length and its body, read either on the
/// registry client's own connections (``StreamedReadConnections``: up to 1 MiB per socket
/// read) or through async-http-client, which answered when the registry asked to sign in or
/// redirected the read elsewhere.
struct BlobDownload: Sendable {
    /// The `Content-Length` the registry sent, if any.
    let length: Int64?
    let body: Body

    init(_ response: StreamedResponse) {
        self.init(headers: response.headers, body: Body(source: .streamed(response)))
    }

    init(_ response: HTTPClientResponse) {
        self.init(headers: response.headers, body: Body(source: .client(response.body)))
    }

    private init(headers: HTTPHeaders, body: Body) {
        length = headers.first(name: "Content-Length").flatMap { Int64($0) }
        self.body = body
    }

    /// Whether the body comes on the registry client's own connections.
    var readsOwnConnection: Bool {
        if case .streamed = body.source { return true }
        return false
    }

    /// The body's buffers. Letting go of a streamed body before its end closes its
    /// connection (``StreamedResponse``); a body cut short throws.
    struct Body: AsyncSequence, Sendable {
        typealias Element = ByteBuffer

        enum Source: Sendable {
            case streamed(StreamedResponse)
            case client(HTTPClientResponse.Body)
        }

        fileprivate let source: Source

        struct AsyncIterator: AsyncIteratorProtocol {
            fileprivate enum Position {
                case streamed(StreamedResponse)
                case client(HTTPClientResponse.Body.AsyncIterator)
            }

            fileprivate var position: Position

            mutating func next() async throws -> ByteBuffer? {
                switch position {
                case .streamed(let response):
                    return try await response.stream.next()
                case .client(var iterator):
                    let buffer = try await iterator.next()
                    position = .client(iterator)
                    return buffer
                }
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            switch source {
            case .streamed(let response): AsyncIterator(position: .streamed(response))
            case .client(let body): AsyncIterator(position: .client(body.makeAsyncIterator()))
            }
        }
    }
}
