import Foundation
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import Testing
import KuraTestSupport

/// podman 4.3 (no daemon) with its own storage under the test's folder (vfs, cgroupfs, file
/// events) and its own auth files.
struct Podman: Sendable {
    static let executable = "/usr/bin/podman"
    let folder: String

    init(scratch: String) throws {
        _ = try ClientProcess.require(Self.executable, package: "podman")
        // podman refuses a run root longer than 50 characters: a short folder of its own.
        folder = "/tmp/kp-\(UUID().uuidString.prefix(8))"
        for sub in ["root", "run", "tmp", "config"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
        // No registries.conf of the machine: unqualified names and mirrors play no part.
        try Data("unqualified-search-registries = []\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/registries.conf"))
    }

    /// Removes the storage (call at the end of the test).
    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    @discardableResult
    func run(_ arguments: [String], input: String? = nil, check: Bool = true) async throws -> ExternalProcessResult {
        try await ClientProcess.run(
            Self.executable,
            [
                "--root", "\(folder)/root", "--runroot", "\(folder)/run", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file", "--tmpdir", "\(folder)/tmp",
            ] + arguments,
            environment: [
                "REGISTRY_AUTH_FILE": "\(folder)/auth.json", "CONTAINERS_REGISTRIES_CONF": "\(folder)/registries.conf",
                "XDG_CONFIG_HOME": "\(folder)/config", "TMPDIR": "\(folder)/tmp",
                // podman also reads Docker's credentials: not the machine's, which other
                // clients' tests may be writing at the same moment.
                "DOCKER_CONFIG": "\(folder)/docker",
            ],
            input: input, scratch: folder, check: check)
    }
}

/// podman against Kura with access control on: login, push, pull, search, manifest lists in
/// Docker and OCI formats (`manifest create/add/push --all`), and TLS with `--cert-dir`.
@Suite("podman client", .serialized)
struct PodmanClientTests {
    @Test func podmanLoginPushPullSearchAndManifestLists() async throws {
        try await withClientTestServer { server in
            let podman = try Podman(scratch: server.scratch)
            defer { podman.remove() }
            let host = server.authority
            let insecure = "--tls-verify=false"
            try await podman.run(["login", insecure, "--username", server.root.id, "--password-stdin", host], input: server.root.secret)

            let amd64 = try await makeRootFilesystemTar(["etc/kura-test": "podman amd64\n"], scratch: server.scratch)
            let arm64 = try await makeRootFilesystemTar(["etc/kura-test": "podman arm64\n"], scratch: server.scratch)
            try await podman.run(["import", "--arch", "amd64", amd64, "\(host)/team/pod:amd64"])
            try await podman.run(["import", "--arch", "arm64", arm64, "\(host)/team/pod:arm64"])
            for tag in ["amd64", "arm64"] { try await podman.run(["push", insecure, "\(host)/team/pod:\(tag)"]) }
            #expect(Set(try await server.tags("team/pod")) == ["amd64", "arm64"])

            try await podman.run(["rmi", "\(host)/team/pod:amd64"])
            try await podman.run(["pull", insecure, "\(host)/team/pod:amd64"])
            let images = try await podman.run(["images", "--format", "{{.Repository}}:{{.Tag}}"])
            #expect(images.stdout.contains("\(host)/team/pod:amd64"))

            // search reads the catalog (only what the caller may see).
            let search = try await podman.run(["search", insecure, "--format", "{{.Name}}", "\(host)/pod"])
            #expect(search.stdout.contains("\(host)/team/pod"), "\(search.stdout)")

            for (format, tag, mediaType) in [("v2s2", "list-docker", MediaType.dockerManifestList), ("oci", "list-oci", MediaType.ociIndex)] {
                let list = "localhost/kura-list-\(tag)"
                try await podman.run(["manifest", "create", list])
                for arch in ["amd64", "arm64"] {
                    try await podman.run(["manifest", "add", insecure, "--arch", arch, list, "docker://\(host)/team/pod:\(arch)"])
                }
                try await podman.run(["manifest", "push", insecure, "--all", "--format", format, list, "docker://\(host)/team/pod:\(tag)"])
                let pushed = try await server.manifest("team/pod", tag)
                #expect(pushed.mediaType == mediaType, "\(format)")
                let children = pushed.json["manifests"] as? [[String: Any]] ?? []
                #expect(children.compactMap { ($0["platform"] as? [String: Any])?["architecture"] as? String }.sorted() == ["amd64", "arm64"])
                // --all pushed every child in the list's format.
                for child in children {
                    let digest = try #require(child["digest"] as? String)
                    #expect(try await server.manifest("team/pod", digest).mediaType == child["mediaType"] as? String)
                }
            }
        }
    }

    @Test func podmanOverTLSWithCertDir() async throws {
        try await withTemporaryDirectory { scratch in
            let files = ListenerConfiguration.TLSFiles(certificatePath: "\(scratch)/tls/server.crt", keyPath: "\(scratch)/tls/server.key")
            try SelfSignedCertificate.generate(hosts: ["127.0.0.1"], certificatePath: files.certificatePath, keyPath: files.keyPath)
            let certDir = "\(scratch)/certs"
            try FileManager.default.createDirectory(atPath: certDir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: files.certificatePath, toPath: "\(certDir)/ca.crt")
            var configuration = TLSListenerTests.tlsConfiguration("\(scratch)/data", files: files, reloadSeconds: 3600)
            configuration.access = .init(enabled: true, autoCreateNamespaces: true)
            try await withListeners(configuration) { ports, _, services in
                let host = "127.0.0.1:\(try #require(ports["tls"]))"
                let root = try #require(services.rootCredentials)
                let podman = try Podman(scratch: scratch)
                defer { podman.remove() }
                // Without the CA the certificate is refused.
                let untrusted = try await podman.run(
                    ["login", "--username", root.accessKeyID, "--password-stdin", host], input: root.secretKey, check: false)
                #expect(untrusted.status != 0)
                try await podman.run(["login", "--cert-dir", certDir, "--username", root.accessKeyID, "--password-stdin", host], input: root.secretKey)
                let tar = try await makeRootFilesystemTar(["etc/kura-test": "over TLS\n"], scratch: scratch)
                try await podman.run(["import", tar, "\(host)/tls/pod:v1"])
                try await podman.run(["push", "--cert-dir", certDir, "\(host)/tls/pod:v1"])
                try await podman.run(["rmi", "\(host)/tls/pod:v1"])
                try await podman.run(["pull", "--cert-dir", certDir, "\(host)/tls/pod:v1"])
            }
        }
    }
}
