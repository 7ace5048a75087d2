import AsyncHTTPClient
import Foundation
import KuraCore
import KuraServerTestSupport
import NIOCore
import KuraTestSupport

/// Pushes small images to a registry at `base` over plain HTTP (no credentials) and pulls
/// them back, verifying every digest: the client side of process-level tests.
struct ImagePusher: Sendable {
    let base: String
    /// Told of each blob as its push is acknowledged (201), before the manifest is pushed.
    var onBlobAcknowledged: @Sendable (String, Digest) -> Void = { _, _ in }

    /// An image pushed and acknowledged: its manifest and the blobs it names.
    struct Pushed: Sendable, Hashable {
        var repository: String
        var tag: String
        var manifest: Digest
        var blobs: [Digest]
    }

    /// Pushes a config, one layer of `layerSize` bytes and the manifest under `tag`; throws
    /// unless every step was acknowledged.
    func push(_ repository: String, tag: String, seed: UInt64, layerSize: Int = 64 << 10) async throws -> Pushed {
        let config = Array("{\"seed\":\(seed)}".utf8)
        let layer = testBytes(layerSize, seed: seed)
        for blob in [config, layer] {
            var request = HTTPClientRequest(url: "\(base)/v2/\(repository)/blobs/uploads/?digest=\(sha256(blob))")
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: blob))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            guard response.status.code == 201 else { throw TestFailure("blob push answered \(response.status)") }
            onBlobAcknowledged(repository, sha256(blob))
        }
        let manifest = TestManifests.image(config: config, layers: [layer])
        var request = HTTPClientRequest(url: "\(base)/v2/\(repository)/manifests/\(tag)")
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: MediaType.ociManifest)
        request.body = .bytes(ByteBuffer(bytes: manifest))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        guard response.status.code == 201 else { throw TestFailure("manifest push answered \(response.status)") }
        return Pushed(repository: repository, tag: tag, manifest: sha256(manifest), blobs: [sha256(config), sha256(layer)])
    }

    /// Pulls the tag and every blob of its manifest, checking each digest (and that the tag
    /// still names `image.manifest`).
    func verify(_ image: Pushed) async throws {
        let manifest = try await fetch("/v2/\(image.repository)/manifests/\(image.tag)", accept: MediaType.ociManifest)
        guard sha256(manifest) == image.manifest else { throw TestFailure("\(image.repository):\(image.tag) names another manifest") }
        for digest in image.blobs { try await verifyBlob(digest, in: image.repository) }
    }

    /// Fetches one blob and checks its digest.
    func verifyBlob(_ digest: Digest, in repository: String) async throws {
        let bytes = try await fetch("/v2/\(repository)/blobs/\(digest)")
        guard sha256(bytes) == digest else { throw TestFailure("blob \(digest) has other bytes") }
    }

    /// The tags of a repository.
    func tags(_ repository: String) async throws -> [String] {
        let bytes = try await fetch("/v2/\(repository)/tags/list")
        let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return object?["tags"] as? [String] ?? []
    }

    func fetch(_ path: String, accept: String? = nil) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: base + path)
        if let accept { request.headers.add(name: "Accept", value: accept) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status.code == 200 else { throw TestFailure("GET \(path) answered \(response.status)") }
        return Array(body.readableBytesView)
    }
}

/// Runs `kura` with `arguments`; a non-zero exit comes back as a result, not an error.
func runKura(_ arguments: [String], scratch: String) async throws -> ExternalProcessResult {
    do {
        return try await ExternalProcess.run(ServeProcessTests.executable, arguments, scratch: scratch)
    } catch let failure as ExternalProcessFailure {
        return failure.result
    }
}
