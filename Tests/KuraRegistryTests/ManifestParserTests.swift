import Foundation
import KuraCore
import KuraRegistry
import KuraStorage
import Testing

@Suite("ManifestParser")
struct ManifestParserTests {
    static let config = "sha256:" + String(repeating: "c", count: 64)
    static let layer = "sha256:" + String(repeating: "1", count: 64)
    static let child = "sha256:" + String(repeating: "2", count: 64)

    private func parse(_ json: String, _ contentType: String? = MediaType.ociManifest) throws -> ParsedManifest {
        try ManifestParser.parse(Array(json.utf8), contentType: contentType)
    }

    private func image(mediaType: String = MediaType.ociManifest, extra: String = "") -> String {
        """
        {"schemaVersion":2,"mediaType":"\(mediaType)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(Self.config)","size":10},
        "layers":[{"mediaType":"\(MediaType.ociLayerGzip)","digest":"\(Self.layer)","size":20}]\(extra)}
        """
    }

    @Test func imageManifest() throws {
        let parsed = try parse(image())
        #expect(parsed.mediaType == MediaType.ociManifest)
        #expect(parsed.blobs.map(\.digest.description) == [Self.config, Self.layer])
        #expect(parsed.children.isEmpty)
        #expect(parsed.artifactType == MediaType.ociConfig)
        #expect(parsed.references.map(\.kind) == [.blob, .blob])
    }

    /// Go clients read the last of duplicated keys and Foundation the first: a manifest with
    /// `layers` twice pointed GC and the checks at one list and pullers at another.
    @Test func duplicateKeysAreRefused() throws {
        let other = "sha256:" + String(repeating: "3", count: 64)
        let twice = image(extra: ",\"layers\":[{\"mediaType\":\"\(MediaType.ociLayerGzip)\",\"digest\":\"\(other)\",\"size\":1}]")
        let escaped = image(extra: ",\"l\\u0061yers\":[]")
        let nested = image().replacingOccurrences(of: "\"size\":20", with: "\"size\":20,\"size\":21")
        for json in [twice, escaped, nested] {
            #expect {
                try parse(json)
            } throws: { error in
                (error as? RegistryError)?.code == .manifestInvalid && "\(error)".contains("duplicate key")
            }
        }
        // Invalid UTF-8 in a string value, and nesting beyond the limit.
        var badUTF8 = Array(image(extra: ",\"annotations\":{\"a\":\"x\"}").utf8)
        let x = try #require(badUTF8.lastIndex(of: UInt8(ascii: "x")))
        badUTF8[x] = 0xC3
        #expect(throws: RegistryError.self) { try ManifestParser.parse(badUTF8, contentType: MediaType.ociManifest) }
        let deep = image(extra: ",\"annotations\":{},\"x\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        #expect(throws: RegistryError.self) { try parse(deep) }
    }

    @Test func artifactWithSubjectAndAnnotations() throws {
        let parsed = try parse(image(extra: """
            ,"artifactType":"application/x-sbom","subject":{"mediaType":"\(MediaType.ociManifest)","digest":"\(Self.child)","size":5},
            "annotations":{"a":"b"},"unknownField":[1,2,3]
            """))
        #expect(parsed.artifactType == "application/x-sbom")
        #expect(parsed.subject?.description == Self.child)
        #expect(parsed.annotations == ["a": "b"])
    }

    @Test func indexAndDockerList() throws {
        let json = """
            {"schemaVersion":2,"mediaType":"MT","manifests":[{"mediaType":"\(MediaType.ociManifest)","digest":"\(Self.child)","size":7,
            "platform":{"architecture":"arm64","os":"linux"}}]}
            """
        let oci = try parse(json.replacingOccurrences(of: "MT", with: MediaType.ociIndex), MediaType.ociIndex)
        #expect(oci.isIndex)
        #expect(oci.children.map(\.digest.description) == [Self.child])
        #expect(oci.references.map(\.kind) == [.manifest])
        let docker = try parse(json.replacingOccurrences(of: "MT", with: MediaType.dockerManifestList), MediaType.dockerManifestList)
        #expect(docker.mediaType == MediaType.dockerManifestList)
    }

    @Test func mediaTypeComesFromContentTypeOrShape() throws {
        let withoutType = image().replacingOccurrences(of: "\"mediaType\":\"\(MediaType.ociManifest)\",", with: "")
        #expect(try parse(withoutType, MediaType.dockerManifest).mediaType == MediaType.dockerManifest)
        #expect(try parse(withoutType, "application/json").mediaType == MediaType.ociManifest)
    }

    @Test func nondistributableLayersMayBeAbsent() throws {
        let json = image().replacingOccurrences(of: MediaType.ociLayerGzip, with: MediaType.ociNondistributableLayerGzip)
        let parsed = try parse(json)
        #expect(parsed.blobs[1].mayBeExternal)
        #expect(!parsed.blobs[0].mayBeExternal)
    }

    @Test(arguments: [
        ("not json", "MANIFEST_INVALID"),
        ("[]", "MANIFEST_INVALID"),
        ("{\"schemaVersion\":2}", "MANIFEST_INVALID"),
        ("{\"schemaVersion\":1,\"config\":{},\"layers\":[]}", "MANIFEST_INVALID"),
        ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}", "MANIFEST_INVALID"),
        ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+json\"}", "MANIFEST_INVALID"),
        ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:nothex\",\"size\":1},\"layers\":[]}", "MANIFEST_INVALID"),
        ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:\(String(repeating: "a", count: 64))\",\"size\":-1},\"layers\":[]}", "MANIFEST_INVALID"),
        ("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:\(String(repeating: "a", count: 64))\",\"size\":1},\"layers\":[]}", "MANIFEST_INVALID"),
    ])
    func refusesInvalidManifests(_ json: String, _ code: String) {
        let error = #expect(throws: RegistryError.self) { try ManifestParser.parse(Array(json.utf8), contentType: nil) }
        #expect(error?.code.rawValue == code)
    }

    @Test func contentTypeMustAgreeWithMediaType() {
        let error = #expect(throws: RegistryError.self) { try parse(image(), MediaType.dockerManifest) }
        #expect(error?.code == .manifestInvalid)
    }
}
