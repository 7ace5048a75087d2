import HummingbirdCore
import KuraCore
import Logging
import NIOCore

/// Wraps a listener's child channel setup: a connection from outside the allow-list is
/// closed as it is accepted, before TLS or HTTP handlers are added and before any byte is
/// read. (Failing the setup instead would surface as an error on the server channel and
/// stop the accept loop, so the refused connection is handed on as an empty value.)
struct AllowListChannel<Base: ServerChildChannel>: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// nil when the connection was refused.
        let base: Base.Value?
    }

    let base: Base
    let allow: [NetworkRange]

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let peer = channel.remoteAddress?.ipAddress, let address = IPAddress(parsing: peer), allow.containsAddress(address) else {
            logger.notice("connection refused by the allow-list", metadata: ["peer": "\(channel.remoteAddress?.description ?? "?")"])
            return channel.close().map { Value(channel: channel, base: nil) }.recover { _ in Value(channel: channel, base: nil) }
        }
        return base.setup(channel: channel, logger: logger).map { Value(channel: channel, base: $0) }
    }

    func handle(value: Value, logger: Logger) async {
        guard let base = value.base else { return }
        await self.base.handle(value: base, logger: logger)
    }
}
