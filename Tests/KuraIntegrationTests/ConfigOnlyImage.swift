import HummingbirdTesting
import KuraCore
import KuraServerTestSupport

extension TestClientProtocol {
    /// Pushes an image of one config and no layers (nothing for a scanner to find) as
    /// `repository:tag` through `/v2/`; returns the manifest's bytes.
    func pushConfigOnlyImage(_ repository: String, tag: String, as key: TestKey) async throws -> [UInt8] {
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\"}".utf8)
        try await v2(.post, "\(repository)/blobs/uploads/?digest=\(sha256(config))", as: key, body: config).expectStatus(.created)
        let manifest = Array("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(sha256(config))","size":\(config.count)},"layers":[]}
            """.utf8)
        try await v2(.put, "\(repository)/manifests/\(tag)", as: key, headers: [.contentType: MediaType.ociManifest], body: manifest)
            .expectStatus(.created)
        return manifest
    }
}
