import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import Testing

// Helpers for the skopeo compatibility tests: a live Kura server on loopback, and running
// skopeo (through KuraTestSupport's ExternalProcess, which never blocks the cooperative
// thread pool). The server itself comes from `withLiveServer` (LiveServer.swift).

/// Runs `/usr/bin/skopeo` isolated from any user or system configuration that could
/// interfere: its own HOME, XDG folders, an empty registries.conf, no signature policy.
struct SkopeoRunner: Sendable {
    static let executable = "/usr/bin/skopeo"

    let home: String

    /// Prepares an isolated home folder under `scratch`.
    /// Fails (never skips) when skopeo is missing.
    init(scratch: String) throws {
        guard Self.isInstalled else { throw TestFailure("\(Self.executable) is missing: apt-get install skopeo (scripts/install-deps does)") }
        home = "\(scratch)/skopeo-home"
        for folder in ["", "/config", "/runtime", "/tmp"] {
            try FileManager.default.createDirectory(atPath: home + folder, withIntermediateDirectories: true)
        }
        try Data().write(to: URL(fileURLWithPath: "\(home)/registries.conf"))
    }

    /// `skopeo --insecure-policy --tmpdir … <arguments>`; fails with skopeo's stderr.
    @discardableResult
    func run(_ arguments: [String]) async throws -> ExternalProcessResult {
        var environment: [String: String] = [
            "HOME": home,
            "XDG_CONFIG_HOME": "\(home)/config",
            "XDG_RUNTIME_DIR": "\(home)/runtime",
            "TMPDIR": "\(home)/tmp",
            "CONTAINERS_REGISTRIES_CONF": "\(home)/registries.conf",
        ]
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return try await ExternalProcess.run(
            Self.executable, ["--insecure-policy", "--tmpdir", "\(home)/tmp"] + arguments,
            environment: environment, scratch: "\(home)/tmp")
    }

    /// `skopeo copy <options> <source> <destination>`, plain HTTP on both sides.
    @discardableResult
    func copy(_ source: String, _ destination: String, options: [String] = []) async throws -> ExternalProcessResult {
        try await run(
            ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests"] + options
                + [source, destination])
    }

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }
}

/// A Kura server listening on loopback (started by `withLiveServer` from LiveServer.swift),
/// as seen by a skopeo test.
struct LiveKuraRegistry: Sendable {
    /// `host:port` to put in a `docker://` reference.
    let authority: String
    let client: any TestClientProtocol

    /// `docker://<authority>/<repository>:<tag>`.
    func dockerReference(_ repository: String, tag: String) -> String {
        "docker://\(authority)/\(repository):\(tag)"
    }

    /// Every manifest media type, so the registry never has to choose.
    static let manifestAccept = [
        MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList,
    ].joined(separator: ", ")

    /// GET `/v2/<repository>/manifests/<reference>` with an Accept header listing OCI and
    /// Docker manifest types.
    func getManifest(_ repository: String, _ reference: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/v2/\(repository)/manifests/\(reference)", method: .get, headers: [.accept: Self.manifestAccept])
    }

    /// Starts Kura with a fresh data folder under `scratch`, runs `body`, shuts it down.
    static func run<T: Sendable>(scratch: String, _ body: @Sendable (LiveKuraRegistry) async throws -> T) async throws -> T {
        try await withLiveServer(dataDirectory: "\(scratch)/kura-data") { client in
            // HummingbirdTesting's live framework binds "localhost" on an ephemeral port,
            // which is 127.0.0.1 here (/etc/hosts); skopeo is pointed at the address itself.
            let port = try #require(client.port)
            return try await body(LiveKuraRegistry(authority: "127.0.0.1:\(port)", client: client))
        }
    }
}

extension LiveKuraRegistry {
    /// The bytes of a file, or an empty array when it cannot be read (the assertion then fails).
    static func fileBytes(_ path: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return [UInt8](data)
    }
}
