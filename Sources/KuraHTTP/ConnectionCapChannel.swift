import HummingbirdCore
import KuraCore
import Logging
import NIOCore
import Synchronization

/// Open connections per source address, shared by every connection of one listener.
final class ConnectionCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts one more connection from `address` unless it already holds `limit`.
    func admit(_ address: String, limit: Int) -> Bool {
        counts.withLock { counts in
            let current = counts[address, default: 0]
            guard current < limit else { return false }
            counts[address] = current + 1
            return true
        }
    }

    func release(_ address: String) {
        counts.withLock { counts in
            let remaining = counts[address, default: 1] - 1
            counts[address] = remaining > 0 ? remaining : nil
        }
    }
}

/// Wraps a listener's child channel setup: an address that already holds
/// ``ConnectionSettings/maxPerAddress`` connections has the next one refused as it is
/// accepted (plain HTTP gets a `429` with an OCI error body first), so one client cannot take
/// every file descriptor. Trusted proxies are not capped.
struct ConnectionCapChannel<Base: ServerChildChannel>: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// nil when the connection was refused.
        let base: Base.Value?
    }

    let base: Base
    let limit: Int
    let exempt: [NetworkRange]
    let counter: ConnectionCounter
    /// Whether the refusal may be written as plain HTTP (not on a TLS listener).
    let answersInPlainHTTP: Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let peer = channel.remoteAddress?.ipAddress else {
            return base.setup(channel: channel, logger: logger).map { Value(channel: channel, base: $0) }
        }
        if let address = IPAddress(parsing: peer), exempt.containsAddress(address) {
            return base.setup(channel: channel, logger: logger).map { Value(channel: channel, base: $0) }
        }
        guard counter.admit(peer, limit: limit) else {
            logger.notice("connection refused: too many from one address", metadata: ["peer": "\(peer)", "limit": "\(limit)"])
            let refused = Value(channel: channel, base: nil)
            guard answersInPlainHTTP else { return channel.close().map { refused }.recover { _ in refused } }
            // Half-close after the answer and close a moment later: closing at once with the
            // client's request unread would reset the connection and lose the answer.
            channel.writeAndFlush(Self.refusal(limit: limit)).whenComplete { _ in
                channel.close(mode: .output, promise: nil)
                channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
            }
            return channel.eventLoop.makeSucceededFuture(refused)
        }
        let counter = self.counter
        channel.closeFuture.whenComplete { _ in counter.release(peer) }
        return base.setup(channel: channel, logger: logger).map { Value(channel: channel, base: $0) }
    }

    func handle(value: Value, logger: Logger) async {
        guard let base = value.base else { return }
        await self.base.handle(value: base, logger: logger)
    }

    private static func refusal(limit: Int) -> ByteBuffer {
        let body = ErrorResponse.body(
            for: RegistryError(.tooManyRequests, "too many connections from this address", detail: "at most \(limit) at a time"))
        let head =
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
            + "Connection: close\r\nRetry-After: 1\r\n\r\n"
        var buffer = ByteBuffer(string: head)
        buffer.writeBytes(body)
        return buffer
    }
}
