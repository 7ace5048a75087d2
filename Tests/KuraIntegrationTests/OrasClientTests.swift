import Foundation
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import Testing

/// oras-py (PyPI `oras`, in the test virtual environment) with its default token flow: it
/// keeps the token it got first and asks for a new one only when a challenge says
/// `error="insufficient_scope"` (after a 403). Pushes an artifact (its config media type
/// is the artifactType) with annotations, pulls it, attaches a referrer with a `subject`,
/// and pushes to a second repository from the same client.
@Suite("oras-py client", .serialized)
struct OrasClientTests {
    static let script = #"""
        import json, os, sys
        import oras.client, oras.oci, oras.defaults

        host, user, password, work = sys.argv[1:5]
        os.chdir(work)
        client = oras.client.OrasClient(hostname=host, insecure=True)
        client.login(username=user, password=password, hostname=host)
        with open("artifact.txt", "w") as f:
            f.write("an artifact pushed by oras-py\n")
        with open("config.json", "w") as f:
            f.write("{}")
        pushed = client.push(
            target=f"{host}/team/art:v1",
            files=["artifact.txt:text/plain"],
            manifest_config="config.json:application/vnd.kura.test.artifact+json",
            manifest_annotations={"org.opencontainers.image.description": "kura oras test", "kura.test/kind": "artifact"},
        )
        digest = pushed.headers["Docker-Content-Digest"]
        head = client.do_request(f"http://{host}/v2/team/art/manifests/{digest}", "HEAD",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        size = int(head.headers["Content-Length"])

        os.makedirs("out", exist_ok=True)
        files = client.pull(target=f"{host}/team/art:v1", outdir="out")

        with open("signature.txt", "w") as f:
            f.write("a signature of the artifact\n")
        with open("sigconfig.json", "w") as f:
            f.write("{}")
        client.push(
            target=f"{host}/team/art:sig",
            files=["signature.txt:text/plain"],
            manifest_config="sigconfig.json:application/vnd.kura.test.signature+json",
            subject=oras.oci.Subject(mediaType="application/vnd.oci.image.manifest.v1+json", digest=digest, size=size),
        )
        client.push(target=f"{host}/team/second:v1", files=["artifact.txt:text/plain"])
        print(json.dumps({"digest": digest, "size": size, "pulled": [os.path.relpath(p, work) for p in files]}))
        """#

    @Test func orasPushesPullsAttachesAReferrerAndPushesToASecondRepository() async throws {
        try await withClientTestServer { server in
            let python = try TestTools.python()
            let work = "\(server.scratch)/oras"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let scriptPath = "\(work)/push.py"
            try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
            // oras-py's login writes ~/.docker/config.json: the test's own, not the machine's.
            let result = try await ClientProcess.run(
                python, [scriptPath, server.authority, server.root.id, server.root.secret, work],
                environment: ["HOME": work, "DOCKER_CONFIG": "\(work)/docker"], scratch: server.scratch, timeout: .seconds(120))
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data((result.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
            let digest = try #require(summary["digest"] as? String)
            #expect(try String(contentsOfFile: "\(work)/out/artifact.txt", encoding: .utf8) == "an artifact pushed by oras-py\n")

            let artifact = try await server.manifest("team/art", "v1")
            #expect(artifact.digest == digest)
            #expect((artifact.json["config"] as? [String: Any])?["mediaType"] as? String == "application/vnd.kura.test.artifact+json")
            let annotations = artifact.json["annotations"] as? [String: String] ?? [:]
            #expect(annotations["kura.test/kind"] == "artifact")

            // The referrer is listed with its artifactType (the config media type).
            let referrers = try await server.client.execute(uri: "/v2/team/art/referrers/\(digest)", method: .get, headers: server.root.basic)
            let listed = referrers.json?["manifests"] as? [[String: Any]] ?? []
            #expect(listed.count == 1)
            #expect(listed.first?["artifactType"] as? String == "application/vnd.kura.test.signature+json")
            #expect(try await server.tags("team/second") == ["v1"])
        }
    }
}
