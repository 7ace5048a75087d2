import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraStorage
import Logging
import NIOCore
import Testing

/// The registry service on its own, without HTTP: the layer the CLI jobs will call.
@Suite("Registry service")
struct RegistryServiceTests {
    private func withRegistry<T>(_ body: (Registry) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-reg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let registry = Registry(
            blobs: BlobStore(backend: try FileSystemBackend(root: path, durability: .none)),
            catalog: Catalog(try SQLiteMetadataStore.inMemory()), logger: Logger(label: "test"))
        return try await body(registry)
    }

    private func name(_ s: String) throws -> RepositoryName { try RepositoryName(parsing: s) }

    private func push(_ bytes: [UInt8], _ registry: Registry, _ repository: String) async throws -> Digest {
        let digest = ContentHasher.digest(.sha256, of: bytes)
        _ = try await registry.uploadBlob(
            SingleBufferSequence(buffer: ByteBuffer(bytes: bytes)), digest: digest, length: Int64(bytes.count),
            into: try name(repository))
        return digest
    }

    @Test func blobsAreVisibleOnlyInRepositoriesThatLinkThem() async throws {
        try await withRegistry { registry in
            let digest = try await push(Array("layer".utf8), registry, "a")
            #expect(try await registry.blobInfo(digest, in: try name("a")).size == 5)
            let error = await #expect(throws: RegistryError.self) { try await registry.blobInfo(digest, in: try name("b")) }
            #expect(error?.code == .blobUnknown)
            // Mounting from a repository that does not hold it fails; from one that does, works.
            #expect(try await registry.mountBlob(digest, into: try name("b"), from: try name("c")) == nil)
            #expect(try await registry.mountBlob(digest, into: try name("b"), from: try name("a"))?.size == 5)
            #expect(try await registry.blobInfo(digest, in: try name("b")).digest == digest)
            // Deleting from one repository leaves the other's link.
            try await registry.deleteBlob(digest, in: try name("a"))
            #expect(try await registry.blobInfo(digest, in: try name("b")).size == 5)
        }
    }

    @Test func uploadSessionsBelongToTheirRepository() async throws {
        try await withRegistry { registry in
            let session = try await registry.startUpload(in: try name("a"))
            let error = await #expect(throws: RegistryError.self) {
                try await registry.uploadStatus(session.id.value, in: try name("b"))
            }
            #expect(error?.code == .blobUploadUnknown)
            #expect(try await registry.uploadStatus(session.id.value, in: try name("a")).offset == 0)
            try await registry.cancelUpload(session.id.value, in: try name("a"))
            await #expect(throws: RegistryError.self) { try await registry.uploadStatus(session.id.value, in: try name("a")) }
        }
    }

    @Test func manifestDescriptorSizesMustMatchTheBlobs() async throws {
        try await withRegistry { registry in
            let config = try await push(Array("{}".utf8), registry, "a")
            let manifest = """
                {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(config)","size":3},"layers":[]}
                """
            let error = await #expect(throws: RegistryError.self) {
                try await registry.putManifest(
                    ByteBuffer(string: manifest), contentType: MediaType.ociManifest, reference: .tag(try Tag(parsing: "v1")),
                    in: try name("a"))
            }
            #expect(error?.code == .manifestInvalid)
            let tags = try await registry.tags(in: try name("a"), after: nil, limit: nil)
            #expect(tags.isEmpty)
        }
    }

    @Test func tagsOfAnUnknownRepository() async throws {
        try await withRegistry { registry in
            let error = await #expect(throws: RegistryError.self) { try await registry.tags(in: try name("nothing"), after: nil, limit: 10) }
            #expect(error?.code == .nameUnknown)
        }
    }
}
