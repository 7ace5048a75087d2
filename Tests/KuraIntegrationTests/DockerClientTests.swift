import Foundation
import KuraCore
import KuraServerTestSupport
import Testing

#if canImport(Glibc)
import Glibc
import KuraTestSupport
#endif

/// A docker daemon of the test's own (Debian's docker.io 20.10): vfs storage, no bridge, no
/// iptables, its data, exec root and socket under the test's folder, every 127.0.0.0/8
/// registry plain HTTP. Needs root (the CI runs as root).
struct DockerDaemon: Sendable {
    static let dockerd = "/usr/sbin/dockerd"
    /// Debian's client; a newer one may come first on PATH.
    static let docker = "/usr/bin/docker"

    let folder: String
    let process: ChildProcess

    /// Starts a daemon, runs `body` with it, and stops it (also when `body` throws).
    static func with<T>(scratch: String, _ body: (DockerDaemon) async throws -> T) async throws -> T {
        let daemon = try await start(scratch: scratch)
        do {
            let result = try await body(daemon)
            await daemon.stop()
            return result
        } catch {
            await daemon.stop()
            throw error
        }
    }

    static func start(scratch: String) async throws -> DockerDaemon {
        let dockerd = try ClientProcess.require(Self.dockerd, package: "docker.io")
        _ = try ClientProcess.require(Self.docker, package: "docker.io")
        guard getuid() == 0 else { throw TestFailure("dockerd needs root; run the suite as root (the CI does)") }
        // A short path: the socket path must fit in sun_path (108 bytes).
        let folder = "/tmp/kd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(folder)/cfg", withIntermediateDirectories: true)
        let arguments = [
            "--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs", "--insecure-registry", "127.0.0.0/8",
            "--data-root", "\(folder)/root", "--exec-root", "\(folder)/exec", "--pidfile", "\(folder)/dockerd.pid",
            "-H", "unix://\(folder)/docker.sock",
        ]
        let process = try ChildProcess.spawn(
            dockerd, arguments, standardOutput: .file("\(folder)/dockerd.log"), standardError: .standardOutput)
        let daemon = DockerDaemon(folder: folder, process: process)
        for _ in 0..<300 {
            if let version = try? await daemon.docker(["version", "--format", "{{.Server.Version}}"], scratch: scratch, timeout: .seconds(5)),
                !version.stdout.isEmpty
            {
                return daemon
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = ((try? String(contentsOfFile: "\(folder)/dockerd.log", encoding: .utf8)) ?? "").suffix(3000)
        await daemon.stop()
        throw TestFailure("dockerd did not start:\n\(tail)")
    }

    /// `docker …` against this daemon, with its own client configuration (credentials).
    @discardableResult
    func docker(
        _ arguments: [String], input: String? = nil, scratch: String, timeout: Duration = .seconds(180), check: Bool = true
    ) async throws -> ExternalProcessResult {
        try await ClientProcess.run(
            Self.docker, arguments, environment: ["DOCKER_HOST": "unix://\(folder)/docker.sock", "DOCKER_CONFIG": "\(folder)/cfg"],
            input: input, scratch: scratch, timeout: timeout, check: check)
    }

    /// SIGTERM (dockerd then stops containerd and unmounts its data root), SIGKILL after
    /// 15 s; then whatever is still mounted under the folder is detached and the folder goes.
    func stop() async {
        await process.terminate(grace: .seconds(15))
        let mounts = ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
            .filter { $0.hasPrefix(folder + "/") }
        for mount in mounts.sorted(by: >) { _ = umount2(mount, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// docker against `kura serve`'s routes with access control on: login, push, pull, pull by
/// digest, a cross-repository mount, `manifest inspect`, a two-platform list made with
/// `manifest create`/`annotate`/`push`, and a viewer refused a push.
@Suite("docker client", .serialized)
struct DockerClientTests {
    @Test func dockerLoginPushPullMountManifestListAndViewer() async throws {
        try await withClientTestServer { server in
            try await DockerDaemon.with(scratch: server.scratch) { daemon in
                let scratch = server.scratch
                let host = server.authority
                @discardableResult func docker(_ arguments: [String], input: String? = nil, check: Bool = true) async throws -> ExternalProcessResult {
                    try await daemon.docker(arguments, input: input, scratch: scratch, check: check)
                }

                let login = try await docker(["login", host, "--username", server.root.id, "--password-stdin"], input: server.root.secret)
                #expect(login.stdout.contains("Login Succeeded"))

                let amd64 = try await makeRootFilesystemTar(["etc/kura-test": "amd64 image\n", "bin/app": "#!/bin/sh\necho amd64\n"], scratch: scratch)
                try await docker(["import", "--platform", "linux/amd64", amd64, "\(host)/team/app:v1"])
                let push = try await docker(["push", "\(host)/team/app:v1"])
                let digest = try #require(push.stdout.firstMatch(of: /digest: (sha256:[0-9a-f]{64})/)?.1).description
                #expect(try await server.manifest("team/app", "v1").digest == digest)

                // The same layer pushed to another repository is mounted, not uploaded again.
                try await docker(["tag", "\(host)/team/app:v1", "\(host)/team/other:v1"])
                let mounted = try await docker(["push", "\(host)/team/other:v1"])
                #expect(mounted.stdout.contains("Mounted from team/app"), "\(mounted.stdout)")

                // Pull by tag and by digest into an empty image store.
                try await docker(["rmi", "\(host)/team/app:v1", "\(host)/team/other:v1"])
                try await docker(["pull", "\(host)/team/app:v1"])
                let byDigest = try await docker(["pull", "\(host)/team/app@\(digest)"])
                #expect(byDigest.stdout.contains(digest))

                let inspected = try await docker(["manifest", "inspect", "--insecure", "\(host)/team/app:v1"])
                let manifest = try #require(try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any])
                #expect(manifest["mediaType"] as? String == MediaType.dockerManifest)
                #expect((manifest["layers"] as? [Any])?.count == 1)

                // A two-platform list from two pushed images.
                let arm64 = try await makeRootFilesystemTar(["etc/kura-test": "arm64 image\n"], scratch: scratch)
                try await docker(["import", "--platform", "linux/arm64", arm64, "\(host)/team/app:v1-arm64"])
                try await docker(["push", "\(host)/team/app:v1-arm64"])
                try await docker(["manifest", "create", "--insecure", "\(host)/team/app:multi", "\(host)/team/app:v1", "\(host)/team/app:v1-arm64"])
                try await docker(["manifest", "annotate", "--os", "linux", "--arch", "arm64", "\(host)/team/app:multi", "\(host)/team/app:v1-arm64"])
                try await docker(["manifest", "annotate", "--os", "linux", "--arch", "amd64", "\(host)/team/app:multi", "\(host)/team/app:v1"])
                let listPush = try await docker(["manifest", "push", "--insecure", "\(host)/team/app:multi"])
                #expect(listPush.stdout.contains("sha256:"))
                let list = try await server.manifest("team/app", "multi")
                #expect(list.mediaType == MediaType.dockerManifestList)
                let platforms = (list.json["manifests"] as? [[String: Any]] ?? []).compactMap { ($0["platform"] as? [String: Any])?["architecture"] as? String }
                #expect(platforms.sorted() == ["amd64", "arm64"])
                let listInspected = try await docker(["manifest", "inspect", "--insecure", "\(host)/team/app:multi"])
                #expect(listInspected.stdout.contains("arm64"))

                // A viewer pulls but may not push.
                try await docker(["logout", host])
                try await docker(["login", host, "--username", server.viewer.id, "--password-stdin"], input: server.viewer.secret)
                try await docker(["rmi", "\(host)/team/app:v1"])
                try await docker(["pull", "\(host)/team/app:v1"])
                try await docker(["tag", "\(host)/team/app:v1", "\(host)/team/app:by-viewer"])
                let refused = try await docker(["push", "\(host)/team/app:by-viewer"], check: false)
                #expect(refused.status != 0)
                #expect(refused.stderr.lowercased().contains("denied"), "\(refused.stderr)")
                #expect(try await server.tags("team/app").contains("by-viewer") == false)
            }
        }
    }
}
