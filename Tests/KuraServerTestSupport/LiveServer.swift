import Foundation
public import HTTPTypes
import Hummingbird
public import HummingbirdTesting
public import KuraCore
import KuraHTTP
public import KuraServe
public import KuraMirror
public import KuraRegistry
import KuraStorage
import KuraTestSupport
import Logging
public import NIOCore

/// Runs a Kura server over `dataDirectory` — in process through its router (`.router`, for
/// route-level tests), or on 127.0.0.1 on an ephemeral port (`.live`, for tests that need a
/// socket) — hands a client to `body`, and shuts the server down afterwards.
public func withLiveServer<T: Sendable>(
    dataDirectory: String, mode: TestingSetup = .live, limits: RegistryLimits = RegistryLimits(),
    _ body: @Sendable (any TestClientProtocol) async throws -> T
) async throws -> T {
    try await withLiveServer(dataDirectory: dataDirectory, mode: mode, limits: limits, access: .init(enabled: false)) { client, _ in
        try await body(client)
    }
}

/// As above, with access control settings; `body` also gets the services (root credentials
/// on a first start).
public func withLiveServer<T: Sendable>(
    dataDirectory: String, mode: TestingSetup = .live, limits: RegistryLimits = RegistryLimits(), access: ServerConfiguration.AccessSettings,
    gc: ServerConfiguration.GarbageCollectionSchedule = .init(enabled: false),
    storage: ServerConfiguration.StorageSettings = .init(), proxies: [ProxyNamespace] = [], clock: (any Clock<Duration>)? = nil,
    catalog: ServerConfiguration.CatalogSettings = .init(),
    _ body: @Sendable (any TestClientProtocol, KuraServer.Services) async throws -> T
) async throws -> T {
    var logger = Logger(label: "kura-test")
    logger.logLevel = .critical
    var configuration = ServerConfiguration(
        host: "127.0.0.1", port: 0, dataDirectory: dataDirectory, limits: limits, access: access, gc: gc, storage: storage)
    configuration.proxies = proxies
    configuration.catalog = catalog
    // The test client opens its connection when the server starts, and a test may send its
    // first request only after starting a second server: at the start of a full run (every
    // suite starting at once on 2 cores) that took longer than the 30 s request-head
    // timeout, which then closed the idle connection (I/O on closed channel). The timeouts
    // themselves are tested with their own settings (SlowClientTests).
    configuration.connections.requestHeadTimeout = .seconds(600)
    var services = try await KuraServer.open(configuration, logger: logger)
    if let clock { services.clock = clock }
    defer { services.close() }
    let app = try KuraServer.makeApplication(configuration, services: services, logger: logger)
    return try await app.test(mode) { [services] client in try await body(client, services) }
}

/// A fresh folder under the system temp directory, removed after `body`.
public func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-http-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Deterministic pseudo-random bytes.
public func testBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] { TestData.bytes(count, seed: seed) }

public func sha256(_ bytes: [UInt8]) -> Digest { ContentHasher.digest(.sha256, of: bytes) }

extension HTTPField.Name {
    public static let testDockerContentDigest = Self("Docker-Content-Digest")!
    public static let testDockerUploadUUID = Self("Docker-Upload-UUID")!
    public static let testOCISubject = Self("OCI-Subject")!
    public static let testOCIFiltersApplied = Self("OCI-Filters-Applied")!
    public static let testOCIChunkMinLength = Self("OCI-Chunk-Min-Length")!
    public static let testAPIVersion = Self("Docker-Distribution-API-Version")!
    public static let testLink = Self("Link")!
}

/// The first OCI error code of a registry's error body (`{"errors":[{"code":…}]}`), if it is one.
public func ociErrorCode(_ body: ByteBuffer) -> String? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
        let errors = object["errors"] as? [[String: Any]]
    else { return nil }
    return errors.first?["code"] as? String
}

extension TestResponse {
    public var bytes: [UInt8] { Array(body.readableBytesView) }

    /// The OCI error code of an error body, if it is one.
    public var errorCode: String? { ociErrorCode(body) }

    public var json: [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
    }

    public var jsonArray: [[String: Any]]? {
        try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]]
    }
}

extension TestClientProtocol {
    /// Pushes a blob monolithically and returns its digest.
    @discardableResult
    public func pushBlob(_ bytes: [UInt8], to repository: String) async throws -> Digest {
        let digest = sha256(bytes)
        let response = try await execute(
            uri: "/v2/\(repository)/blobs/uploads/?digest=\(digest)", method: .post,
            headers: [.contentType: "application/octet-stream"], body: ByteBuffer(bytes: bytes))
        guard response.status == .created else { throw TestFailure("blob push answered \(response.status)") }
        return digest
    }

    /// Pushes a manifest and returns the response.
    public func pushManifest(_ bytes: [UInt8], mediaType: String, to repository: String, reference: String) async throws -> TestResponse {
        try await execute(
            uri: "/v2/\(repository)/manifests/\(reference)", method: .put, headers: [.contentType: mediaType],
            body: ByteBuffer(bytes: bytes))
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Builds manifest JSON for tests.
public enum TestManifests {
    public static func descriptor(_ mediaType: String, _ digest: Digest, _ size: Int, extra: String = "") -> String {
        "{\"mediaType\":\"\(mediaType)\",\"digest\":\"\(digest)\",\"size\":\(size)\(extra)}"
    }

    /// An OCI image manifest over a config and layers (bytes, not digests).
    public static func image(config: [UInt8], layers: [[UInt8]], mediaType: String = MediaType.ociManifest,
                      configType: String = MediaType.ociConfig, layerType: String = MediaType.ociLayerGzip,
                      subject: (Digest, Int)? = nil, artifactType: String? = nil, annotations: String? = nil) -> [UInt8] {
        var fields = [
            "\"schemaVersion\":2", "\"mediaType\":\"\(mediaType)\"",
            "\"config\":\(descriptor(configType, sha256(config), config.count))",
            "\"layers\":[\(layers.map { descriptor(layerType, sha256($0), $0.count) }.joined(separator: ","))]",
        ]
        if let artifactType { fields.append("\"artifactType\":\"\(artifactType)\"") }
        if let subject { fields.append("\"subject\":\(descriptor(MediaType.ociManifest, subject.0, subject.1))") }
        if let annotations { fields.append("\"annotations\":\(annotations)") }
        return Array("{\(fields.joined(separator: ","))}".utf8)
    }

    public static func index(_ children: [(Digest, Int)], mediaType: String = MediaType.ociIndex, childType: String = MediaType.ociManifest) -> [UInt8] {
        let list = children.enumerated().map { i, child in
            descriptor(childType, child.0, child.1, extra: ",\"platform\":{\"architecture\":\"arch\(i)\",\"os\":\"linux\"}")
        }
        return Array("{\"schemaVersion\":2,\"mediaType\":\"\(mediaType)\",\"manifests\":[\(list.joined(separator: ","))]}".utf8)
    }
}

extension TestResponse {
    /// Throws unless the status is `status` (for set-up steps).
    @discardableResult
    public func expectStatus(_ status: HTTPResponse.Status) throws -> TestResponse {
        guard self.status == status else { throw TestFailure("expected \(status), got \(self.status): \(String(buffer: body))") }
        return self
    }
}
