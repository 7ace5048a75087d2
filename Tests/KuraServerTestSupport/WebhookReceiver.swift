import Foundation
public import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// Runs an HTTP server on 127.0.0.1 taking webhook deliveries at `/hook`: each body goes to
/// `record`, whose status is the answer; `body` gets the server's port.
public func withWebhookReceiver<T: Sendable>(
    _ record: @escaping @Sendable (_ body: [UInt8], _ headers: HTTPFields) async -> HTTPResponse.Status,
    _ body: @Sendable (Int) async throws -> T
) async throws -> T {
    let router = Router()
    router.post("/hook") { request, _ -> Response in
        var request = request
        let bytes = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
        return Response(status: await record(bytes, request.headers))
    }
    return try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
        guard let port = client.port else { throw TestFailure("the receiver has no port") }
        return try await body(port)
    }
}
