import NIOCore

extension Channel {
    /// Whether this is an HTTP/2 stream rather than a connection: a stream's parent is the
    /// TCP connection, a connection's is the listening socket, which has none.
    var isHTTP2Stream: Bool { parent?.parent != nil }
}
