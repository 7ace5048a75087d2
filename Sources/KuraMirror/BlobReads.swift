import Foundation
import KuraStorage
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Blob GETs to one registry on connections of their own (``StreamedReadConnections``):
/// large socket reads, read ahead of the reader up to ``readAhead`` bytes.
///
/// A registry that redirects blob reads (Docker Hub and GHCR send them to a CDN or a bucket)
/// is asked on these connections once: after its first redirect, ``redirects`` is set and the
/// client goes to async-http-client directly, which follows the redirect, instead of paying
/// a round trip per blob for a redirect it cannot follow here.
final class BlobReads: Sendable {
    /// How far a read runs ahead of its reader: a pull-through fill's store, or a mirror's
    /// upload to the target.
    static let readAhead = 2 << 20

    let connections: StreamedReadConnections
    /// The `Host` header: the endpoint's host, with its port unless it is the scheme's own.
    let host: String
    /// The endpoint's path in front of `/v2` (empty for most registries).
    let basePath: String
    private let redirected = Atomic<Bool>(false)

    /// Whether the registry answered a blob read with a redirect.
    var redirects: Bool { redirected.load(ordering: .relaxed) }

    /// Nil when `endpoint`'s URL has no host to connect to.
    init?(endpoint: RegistryEndpoint, tls: TLSConfiguration?) {
        guard let url = URL(string: endpoint.baseURL), let name = url.host, !name.isEmpty else { return nil }
        let secure = url.scheme == "https"
        let defaultPort = secure ? 443 : 80
        let port = url.port ?? defaultPort
        // URL gives an IPv6 address without its brackets; the Host header needs them.
        let bare = name.hasPrefix("[") ? String(name.dropFirst().dropLast()) : name
        let hostName = bare.contains(":") ? "[\(bare)]" : bare
        host = port == defaultPort ? hostName : "\(hostName):\(port)"
        basePath = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        connections = StreamedReadConnections(
            host: bare, port: port, tls: secure ? (tls ?? .makeClientConfiguration()) : nil)
    }

    /// Sends a GET for `path` (which starts with `/v2/`), whose whole body must arrive within
    /// `timeout`, and returns the response if it is a 200; nil for any other status, whose body
    /// is read (a short one, so that the connection is kept) and dropped; a redirect sets
    /// ``redirects``.
    func get(_ path: String, authorization: String?, timeout: Duration) async throws -> StreamedResponse? {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: basePath + path)
        head.headers.add(name: "Host", value: host)
        if let authorization { head.headers.add(name: "Authorization", value: authorization) }
        let response = try await connections.open(head, readAhead: Self.readAhead, deadline: .now() + TimeAmount(timeout))
        guard response.status == .ok else {
            if (300..<400).contains(response.status.code) { redirected.store(true, ordering: .relaxed) }
            _ = try? await response.stream.collect(upTo: 1 << 16)
            return nil
        }
        return response
    }
}
