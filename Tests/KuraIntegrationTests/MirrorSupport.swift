import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraMirror
import KuraServerTestSupport
import NIOCore

/// The content a mirror test copies: an OCI image, a Docker schema 2 image, a two-platform
/// index and a referrer (an SBOM-like artifact whose subject is the OCI image), in one
/// repository, with a layer shared between images.
struct MirrorSourceImages: Sendable {
    /// Tag → (manifest bytes, media type).
    var tagged: [String: ([UInt8], String)] = [:]
    /// Untagged manifests (index children, the referrer) by digest.
    var untagged: [Digest: ([UInt8], String)] = [:]
    var referrer: Digest!
    var ociImage: Digest!
    var children: [Digest] = []
    var blobs: [Digest] = []

    static let tags = ["1.0.0", "1.1.0", "2.0.0"]

    /// Sends one request (method, path, headers, body) and answers its status code.
    typealias Send = @Sendable (HTTPRequest.Method, String, HTTPFields, ByteBuffer) async throws -> Int

    /// Pushes it all into `repository` of an in-process server.
    static func push(to client: any TestClientProtocol, repository: String) async throws -> MirrorSourceImages {
        try await push(repository: repository) { method, path, headers, body in
            Int(try await client.execute(uri: path, method: method, headers: headers, body: body).status.code)
        }
    }

    /// Pushes it all into `repository` through `send`.
    static func push(repository: String, send: Send) async throws -> MirrorSourceImages {
        var images = MirrorSourceImages()
        let shared = testBytes(300_000, seed: 11)
        func blob(_ bytes: [UInt8]) async throws {
            let digest = sha256(bytes)
            let status = try await send(
                .post, "/v2/\(repository)/blobs/uploads/?digest=\(digest)", [.contentType: "application/octet-stream"], ByteBuffer(bytes: bytes))
            guard status == 201 else { throw TestFailure("blob push answered \(status)") }
            images.blobs.append(digest)
        }
        func manifest(_ bytes: [UInt8], _ mediaType: String, _ reference: String) async throws {
            let status = try await send(.put, "/v2/\(repository)/manifests/\(reference)", [.contentType: mediaType], ByteBuffer(bytes: bytes))
            guard status == 201 else { throw TestFailure("manifest push \(reference): \(status)") }
        }
        // OCI image, tag 1.0.0.
        let ociConfig = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}\n".utf8)
        let ociLayer = testBytes(200_000, seed: 12)
        for bytes in [ociConfig, ociLayer, shared] { try await blob(bytes) }
        let oci = TestManifests.image(config: ociConfig, layers: [shared, ociLayer])
        try await manifest(oci, MediaType.ociManifest, "1.0.0")
        images.tagged["1.0.0"] = (oci, MediaType.ociManifest)
        images.ociImage = sha256(oci)
        // Docker schema 2 image, tag 1.1.0.
        let dockerConfig = Array("{\"architecture\":\"arm64\",\"os\":\"linux\"}".utf8)
        let dockerLayer = testBytes(150_000, seed: 13)
        for bytes in [dockerConfig, dockerLayer] { try await blob(bytes) }
        let docker = TestManifests.image(
            config: dockerConfig, layers: [shared, dockerLayer], mediaType: MediaType.dockerManifest, configType: MediaType.dockerConfig,
            layerType: MediaType.dockerLayerGzip)
        try await manifest(docker, MediaType.dockerManifest, "1.1.0")
        images.tagged["1.1.0"] = (docker, MediaType.dockerManifest)
        // A two-platform index, tag 2.0.0 (platforms linux/arch0 and linux/arch1).
        var children: [(Digest, Int)] = []
        for arch in 0..<2 {
            let config = Array("{\"architecture\":\"arch\(arch)\",\"os\":\"linux\"}".utf8)
            let layer = testBytes(100_000, seed: 20 + UInt64(arch))
            for bytes in [config, layer] { try await blob(bytes) }
            let child = TestManifests.image(config: config, layers: [layer, shared])
            try await manifest(child, MediaType.ociManifest, sha256(child).description)
            images.untagged[sha256(child)] = (child, MediaType.ociManifest)
            images.children.append(sha256(child))
            children.append((sha256(child), child.count))
        }
        let index = TestManifests.index(children)
        try await manifest(index, MediaType.ociIndex, "2.0.0")
        images.tagged["2.0.0"] = (index, MediaType.ociIndex)
        // A referrer of the OCI image.
        let sbom = Array("{\"packages\":[]}".utf8)
        try await blob(sbom)
        try await blob(Array("{}".utf8))
        let referrer = TestManifests.image(
            config: Array("{}".utf8), layers: [sbom], configType: MediaType.ociEmpty, layerType: "application/spdx+json",
            subject: (sha256(oci), oci.count), artifactType: "application/spdx+json")
        try await manifest(referrer, MediaType.ociManifest, sha256(referrer).description)
        images.untagged[sha256(referrer)] = (referrer, MediaType.ociManifest)
        images.referrer = sha256(referrer)
        return images
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}

extension TestClientProtocol {
    /// A manifest's bytes as the server stores them (nil when absent).
    func manifestBytes(_ repository: String, _ reference: String, headers: HTTPFields = [:]) async throws -> [UInt8]? {
        let accept = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].joined(separator: ", ")
        let response = try await execute(
            uri: "/v2/\(repository)/manifests/\(reference)", method: .get, headers: headers.merging([.accept: accept]), body: nil)
        return response.status == .ok ? response.bytes : nil
    }

    func blobPresent(_ repository: String, _ digest: Digest, headers: HTTPFields = [:]) async throws -> Bool {
        try await execute(uri: "/v2/\(repository)/blobs/\(digest)", method: .head, headers: headers, body: nil).status == .ok
    }

    /// A registry client of this live test server.
    func registryClient(_ key: TestKey? = nil, chunkSize: Int? = nil) throws -> RegistryClient {
        guard let port else { throw TestFailure("not a live server") }
        let endpoint = try RegistryEndpoint(
            parsing: "http://127.0.0.1:\(port)", credentials: key.map { RegistryCredentials(username: $0.id, password: $0.secret) })
        return RegistryClient(endpoint: endpoint, retry: RetryPolicy(attempts: 2, baseDelay: .milliseconds(20)), uploadChunkSize: chunkSize)
    }
}
