import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import Logging
import NIOCore
import Synchronization

/// A tiny registry that serves one image (`bad/app:1`, a config and a layer, 1 MiB unless
/// asked otherwise; its tag list can name more tags) and can
/// misbehave on the layer: die half way (the connection closes after half the announced
/// bytes), or lie (other bytes of the same length under the layer's digest).
final class FaultySourceRegistry: Sendable {
    enum Behaviour: Sendable {
        case honest
        case diesMidLayer
        case lies
        /// Honest, in 16 pieces 100 ms apart.
        case slow
        /// Honest, the first byte half a second after the headers.
        case lateFirstByte
        /// A `307` to `/elsewhere/<digest>`, which serves the layer honestly.
        case redirected
    }

    static let repository = "bad/app"
    let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\"}".utf8)
    let layer: [UInt8]
    let manifest: [UInt8]
    /// What `tags/list` answers.
    let tags: [String]
    private let state = Mutex<(behaviour: Behaviour, layerRequests: Int, layerSent: ContinuousClock.Instant?)>((.honest, 0, nil))

    init(layerSize: Int = 1 << 20, tags: [String] = ["1"]) {
        layer = testBytes(layerSize, seed: 99)
        self.tags = tags
        manifest = TestManifests.image(config: config, layers: [layer])
    }

    var behaviour: Behaviour {
        get { state.withLock { $0.behaviour } }
        set { state.withLock { $0.behaviour = newValue } }
    }

    var layerRequests: Int { state.withLock { $0.layerRequests } }
    /// When the last byte of the layer went out (slow mode).
    var layerSent: ContinuousClock.Instant? { state.withLock { $0.layerSent } }

    struct Dropped: Error {}

    /// Serves on an ephemeral loopback port for the length of `body`, which gets the port.
    func serve<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let router = Router()
        let prefix = "/v2/\(Self.repository)"
        router.get("/v2") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}"))) }
        router.get("\(prefix)/tags/list") { _, _ in
            let list = self.tags.map { "\"\($0)\"" }.joined(separator: ",")
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"name\":\"\(Self.repository)\",\"tags\":[\(list)]}")))
        }
        router.get("\(prefix)/manifests/:reference") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: MediaType.ociManifest, HTTPField.Name("Docker-Content-Digest")!: sha256(self.manifest).description],
                body: .init(byteBuffer: ByteBuffer(bytes: self.manifest)))
        }
        router.get("\(prefix)/referrers/:digest") { _, _ in Response(status: .notFound) }
        router.get("\(prefix)/blobs/:digest") { _, context in
            let digest = context.parameters.get("digest") ?? ""
            if digest == sha256(self.config).description {
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: self.config)))
            }
            guard digest == sha256(self.layer).description else { return Response(status: .notFound) }
            let behaviour = self.state.withLock { state in
                state.layerRequests += 1
                return state.behaviour
            }
            let layer = self.layer
            let headers: HTTPFields = [.contentType: "application/octet-stream", .contentLength: String(layer.count)]
            switch behaviour {
            case .honest:
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: layer)))
            case .lies:
                var forged = layer
                forged[forged.count / 2] ^= 0xFF
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: forged)))
            case .slow:
                return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: layer.count) { writer in
                    let piece = layer.count / 16
                    for start in stride(from: 0, to: layer.count, by: piece) {
                        if start > 0 { try await Task.sleep(for: .milliseconds(100)) }
                        try await writer.write(ByteBuffer(bytes: layer[start..<Swift.min(start + piece, layer.count)]))
                    }
                    self.state.withLock { $0.layerSent = .now }
                    try await writer.finish(nil)
                })
            case .lateFirstByte:
                return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: layer.count) { writer in
                    try await Task.sleep(for: .milliseconds(500))
                    try await writer.write(ByteBuffer(bytes: layer))
                    try await writer.finish(nil)
                })
            case .redirected:
                return Response(status: .temporaryRedirect, headers: [.location: "/elsewhere/\(digest)"])
            case .diesMidLayer:
                return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: layer.count) { writer in
                    try await writer.write(ByteBuffer(bytes: layer[..<(layer.count / 2)]))
                    throw Dropped()
                })
            }
        }
        router.get("/elsewhere/:digest") { _, context in
            guard context.parameters.get("digest") == sha256(self.layer).description else { return Response(status: .notFound) }
            let headers: HTTPFields = [.contentType: "application/octet-stream", .contentLength: String(self.layer.count)]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.layer)))
        }
        var logger = Logger(label: "faulty-source")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        return try await app.test(.live) { client in
            guard let port = client.port else { throw TestFailure("no port") }
            return try await body(port)
        }
    }
}
