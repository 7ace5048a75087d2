import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Shared by the real-client tests (docker, podman, oras-py, Trivy, skopeo): a Kura server
// with access control on, and running a client as a bounded external process.

/// A Kura server for a client test: access control on, namespace `team`, root's key and the
/// key of `viewer` (viewer of `team`).
struct ClientTestServer: Sendable {
    /// `127.0.0.1:PORT`, as clients write it in image references.
    let authority: String
    let client: any TestClientProtocol
    let root: TestKey
    let viewer: TestKey
    let scratch: String

    /// A manifest as the registry serves it, with every manifest media type accepted.
    func manifest(_ repository: String, _ reference: String) async throws -> (mediaType: String?, json: [String: Any], digest: String?) {
        var headers = root.basic
        headers[.accept] = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest].joined(separator: ", ")
        let response = try await client.execute(uri: "/v2/\(repository)/manifests/\(reference)", method: .get, headers: headers)
        guard response.status == .ok else { throw TestFailure("manifest \(repository):\(reference): \(response.status) \(String(buffer: response.body))") }
        let json = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
        return (response.headers[.contentType], json, response.headers[.testDockerContentDigest])
    }

    /// The repository's tags.
    func tags(_ repository: String) async throws -> [String] {
        let response = try await client.execute(uri: "/v2/\(repository)/tags/list", method: .get, headers: root.basic)
        return (response.json?["tags"] as? [String]) ?? []
    }
}

func withClientTestServer<T: Sendable>(_ body: @Sendable (ClientTestServer) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { scratch in
        try await withLiveServer(dataDirectory: "\(scratch)/data", access: .init(enabled: true)) { client, services in
            guard let credentials = services.rootCredentials, let port = client.port else { throw TestFailure("no root credentials or port") }
            let root = TestKey(id: credentials.accessKeyID, secret: credentials.secretKey)
            try await client.makeNamespace("team", root: root)
            let viewer = try await client.makeAccount("viewer", root: root, grants: [("team", "viewer")])
            return try await body(
                ClientTestServer(authority: "127.0.0.1:\(port)", client: client, root: root, viewer: viewer, scratch: scratch))
        }
    }
}

/// A client run to its end, or stopped at its deadline.
enum ClientProcess {
    /// ``ExternalProcess/run(_:_:environment:directory:scratch:stdoutFile:input:timeout:check:)``
    /// with `environment` added to this process's own and a 3-minute deadline by default.
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
        scratch: String, timeout: Duration = .seconds(180), check: Bool = true
    ) async throws -> ExternalProcessResult {
        try await ExternalProcess.run(
            executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, scratch: scratch,
            input: input, timeout: timeout, check: check)
    }

    /// The path of a Debian tool, or a failure naming the package (never a skip).
    static func require(_ path: String, package: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("\(path) is missing: apt-get install \(package) (scripts/install-deps does)")
        }
        return path
    }
}

/// A tar of `files` (path → text) for `docker import` / `podman import`.
func makeRootFilesystemTar(_ files: [String: String], scratch: String) async throws -> String {
    let root = "\(scratch)/rootfs-\(UUID().uuidString.prefix(8))"
    for (path, text) in files {
        let url = URL(fileURLWithPath: root).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
    let tar = root + ".tar"
    try await ClientProcess.run("/usr/bin/tar", ["-cf", tar, "-C", root, "."], scratch: scratch)
    return tar
}
