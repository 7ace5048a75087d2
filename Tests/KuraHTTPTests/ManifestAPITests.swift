import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import NIOCore
import Testing

@Suite("HTTP: manifests, tags, referrers, catalog")
struct ManifestAPITests {
    /// Pushes a config and a layer into `repository` and returns an image manifest over them.
    private func imageManifest(_ client: some TestClientProtocol, _ repository: String, seed: UInt64 = 1, subject: (Digest, Int)? = nil,
                               artifactType: String? = nil) async throws -> [UInt8] {
        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\(seed)}".utf8)
        let layer = testBytes(2048, seed: seed)
        try await client.pushBlob(config, to: repository)
        try await client.pushBlob(layer, to: repository)
        return TestManifests.image(config: config, layers: [layer], subject: subject, artifactType: artifactType,
                                   annotations: artifactType == nil ? nil : "{\"org.example.kind\":\"sbom\"}")
    }

    @Test func manifestsAreValidatedStoredByteExactAndDeleted() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                // Referencing blobs that are not in the repository is refused.
                let config = Array("{}".utf8)
                let orphan = TestManifests.image(config: config, layers: [testBytes(10)])
                let refused = try await client.pushManifest(orphan, mediaType: MediaType.ociManifest, to: "app", reference: "v1")
                #expect(refused.status == .badRequest)
                #expect(refused.errorCode == "MANIFEST_BLOB_UNKNOWN")

                // Pretty-printed JSON with odd spacing must come back exactly as sent.
                var manifest = try await imageManifest(client, "app")
                manifest = Array(String(decoding: manifest, as: UTF8.self).replacingOccurrences(of: ",", with: " ,\n  ").utf8)
                let digest = sha256(manifest)
                let put = try await client.pushManifest(manifest, mediaType: MediaType.ociManifest, to: "app", reference: "v1")
                #expect(put.status == .created)
                #expect(put.headers[.testDockerContentDigest] == digest.description)
                #expect(put.headers[.location] == "http://localhost/v2/app/manifests/\(digest)")

                for reference in ["v1", digest.description] {
                    let get = try await client.execute(uri: "/v2/app/manifests/\(reference)", method: .get,
                                                       headers: [.accept: MediaType.ociManifest])
                    #expect(get.status == .ok)
                    #expect(get.bytes == manifest)
                    #expect(get.headers[.contentType] == MediaType.ociManifest)
                    #expect(get.headers[.testDockerContentDigest] == digest.description)
                    let head = try await client.execute(uri: "/v2/app/manifests/\(reference)", method: .head)
                    #expect(head.status == .ok)
                    #expect(head.headers[.contentLength] == String(manifest.count))
                }

                // Deleting the tag keeps the manifest; deleting the manifest removes it.
                #expect(try await client.execute(uri: "/v2/app/manifests/v1", method: .delete).status == .accepted)
                #expect(try await client.execute(uri: "/v2/app/manifests/v1", method: .get).status == .notFound)
                #expect(try await client.execute(uri: "/v2/app/manifests/\(digest)", method: .get).status == .ok)
                #expect(try await client.execute(uri: "/v2/app/manifests/\(digest)", method: .delete).status == .accepted)
                let gone = try await client.execute(uri: "/v2/app/manifests/\(digest)", method: .get)
                #expect(gone.status == .notFound)
                #expect(gone.errorCode == "MANIFEST_UNKNOWN")
            }
        }
    }

    @Test func invalidManifestsAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router, limits: .init(maxManifestBytes: 64 << 10)) { client in
                let good = try await imageManifest(client, "app")
                let cases: [([UInt8], String, String, String)] = [
                    (Array("not json".utf8), MediaType.ociManifest, "v1", "MANIFEST_INVALID"),
                    (Array("{\"schemaVersion\":2}".utf8), MediaType.ociManifest, "v1", "MANIFEST_INVALID"),
                    (good, MediaType.dockerManifest, "v1", "MANIFEST_INVALID"),  // Content-Type disagrees with mediaType
                    (good, MediaType.ociManifest, sha256(Array("other".utf8)).description, "DIGEST_INVALID"),
                    (Array("{\"schemaVersion\":1,\"mediaType\":\"\(MediaType.ociManifest)\"}".utf8), MediaType.ociManifest, "v1", "MANIFEST_INVALID"),
                ]
                for (bytes, type, reference, code) in cases {
                    let response = try await client.pushManifest(bytes, mediaType: type, to: "app", reference: reference)
                    #expect(response.status == .badRequest)
                    #expect(response.errorCode == code)
                }
                let huge = Array(repeating: UInt8(ascii: " "), count: 65 << 10)
                let tooLarge = try await client.pushManifest(huge, mediaType: MediaType.ociManifest, to: "app", reference: "v1")
                #expect(tooLarge.status == .contentTooLarge)
                // Nothing was tagged by any of them.
                #expect(try await client.execute(uri: "/v2/app/manifests/v1", method: .head).status == .notFound)
            }
        }
    }

    @Test func indexesDockerManifestsTagsAndPagination() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let amd = try await imageManifest(client, "multi", seed: 1)
                let arm = try await imageManifest(client, "multi", seed: 2)
                let index = TestManifests.index([(sha256(amd), amd.count), (sha256(arm), arm.count)])
                // Children must be pushed first.
                let early = try await client.pushManifest(index, mediaType: MediaType.ociIndex, to: "multi", reference: "latest")
                #expect(early.status == .badRequest)
                #expect(early.errorCode == "MANIFEST_BLOB_UNKNOWN")
                for child in [amd, arm] {
                    #expect(try await client.pushManifest(child, mediaType: MediaType.ociManifest, to: "multi", reference: sha256(child).description).status == .created)
                }
                #expect(try await client.pushManifest(index, mediaType: MediaType.ociIndex, to: "multi", reference: "latest").status == .created)
                let get = try await client.execute(uri: "/v2/multi/manifests/latest", method: .get)
                #expect(get.bytes == index)
                #expect(get.headers[.contentType] == MediaType.ociIndex)

                // A Docker schema 2 manifest and list.
                let config = Array("{\"architecture\":\"amd64\"}".utf8)
                let layer = testBytes(99, seed: 7)
                try await client.pushBlob(config, to: "multi")
                try await client.pushBlob(layer, to: "multi")
                let docker = TestManifests.image(config: config, layers: [layer], mediaType: MediaType.dockerManifest,
                                                 configType: MediaType.dockerConfig, layerType: MediaType.dockerLayerGzip)
                #expect(try await client.pushManifest(docker, mediaType: MediaType.dockerManifest, to: "multi", reference: "docker").status == .created)
                let list = TestManifests.index([(sha256(docker), docker.count)], mediaType: MediaType.dockerManifestList, childType: MediaType.dockerManifest)
                #expect(try await client.pushManifest(list, mediaType: MediaType.dockerManifestList, to: "multi", reference: "dockerlist").status == .created)
                #expect(try await client.execute(uri: "/v2/multi/manifests/dockerlist", method: .get).headers[.contentType] == MediaType.dockerManifestList)

                // More tags, then pages of two with Link headers, in lexical order.
                for tag in ["b", "a", "c"] {
                    #expect(try await client.pushManifest(amd, mediaType: MediaType.ociManifest, to: "multi", reference: tag).status == .created)
                }
                let all = try await client.execute(uri: "/v2/multi/tags/list", method: .get)
                #expect(all.json?["tags"] as? [String] == ["a", "b", "c", "docker", "dockerlist", "latest"])
                #expect(all.json?["name"] as? String == "multi")
                var seen: [String] = []
                var next: String? = "/v2/multi/tags/list?n=2"
                while let uri = next {
                    let page = try await client.execute(uri: uri, method: .get)
                    seen += page.json?["tags"] as? [String] ?? []
                    next = page.headers[.testLink].flatMap { link in
                        link.split(separator: ";").first.map { String($0.dropFirst().dropLast()) }
                    }
                }
                #expect(seen == ["a", "b", "c", "docker", "dockerlist", "latest"])
                let afterLast = try await client.execute(uri: "/v2/multi/tags/list?last=docker", method: .get)
                #expect(afterLast.json?["tags"] as? [String] == ["dockerlist", "latest"])
            }
        }
    }

    @Test func referrersAndSubjects() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                let image = try await imageManifest(client, "app")
                let subject = (sha256(image), image.count)
                let sbom = try await imageManifest(client, "app", seed: 5, subject: subject, artifactType: "application/spdx+json")
                let signature = try await imageManifest(client, "app", seed: 6, subject: subject, artifactType: "application/vnd.dev.sigstore")
                // The subject need not exist yet.
                let put = try await client.pushManifest(sbom, mediaType: MediaType.ociManifest, to: "app", reference: sha256(sbom).description)
                #expect(put.status == .created)
                #expect(put.headers[.testOCISubject] == subject.0.description)
                _ = try await client.pushManifest(signature, mediaType: MediaType.ociManifest, to: "app", reference: sha256(signature).description)
                _ = try await client.pushManifest(image, mediaType: MediaType.ociManifest, to: "app", reference: "v1")

                let all = try await client.execute(uri: "/v2/app/referrers/\(subject.0)", method: .get)
                #expect(all.status == .ok)
                #expect(all.headers[.contentType] == MediaType.ociIndex)
                let manifests = all.json?["manifests"] as? [[String: Any]] ?? []
                #expect(Set(manifests.compactMap { $0["digest"] as? String }) == [sha256(sbom).description, sha256(signature).description])
                let sbomEntry = manifests.first { $0["digest"] as? String == sha256(sbom).description }
                #expect(sbomEntry?["artifactType"] as? String == "application/spdx+json")
                #expect((sbomEntry?["annotations"] as? [String: String])?["org.example.kind"] == "sbom")
                #expect(all.headers[.testOCIFiltersApplied] == nil)

                let filtered = try await client.execute(uri: "/v2/app/referrers/\(subject.0)?artifactType=application/spdx%2Bjson", method: .get)
                #expect(filtered.headers[.testOCIFiltersApplied] == "artifactType")
                #expect((filtered.json?["manifests"] as? [[String: Any]])?.compactMap { $0["digest"] as? String } == [sha256(sbom).description])

                let none = try await client.execute(uri: "/v2/app/referrers/\(sha256([1]))", method: .get)
                #expect(none.status == .ok)
                #expect((none.json?["manifests"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func catalogPages() async throws {
        try await withTemporaryDirectory { dir in
            try await withLiveServer(dataDirectory: dir, mode: .router) { client in
                // The catalog lists repositories holding a manifest: each gets one; "empty" only a blob.
                let config = testBytes(10)
                for name in ["c/x", "a", "b/y", "a-b"] {
                    try await client.pushBlob(config, to: name)
                    _ = try await client.pushManifest(TestManifests.image(config: config, layers: []), mediaType: MediaType.ociManifest, to: name, reference: "v1")
                }
                try await client.pushBlob(config, to: "empty")
                let all = try await client.execute(uri: "/v2/_catalog", method: .get)
                #expect(all.json?["repositories"] as? [String] == ["a", "a-b", "b/y", "c/x"])
                let first = try await client.execute(uri: "/v2/_catalog?n=3", method: .get)
                #expect(first.json?["repositories"] as? [String] == ["a", "a-b", "b/y"])
                #expect(first.headers[.testLink] == "</v2/_catalog?n=3&last=b/y>; rel=\"next\"")
                let second = try await client.execute(uri: "/v2/_catalog?n=3&last=b/y", method: .get)
                #expect(second.json?["repositories"] as? [String] == ["c/x"])
                #expect(second.headers[.testLink] == nil)
            }
        }
    }
}
