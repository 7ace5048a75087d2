import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraScan
import KuraServerTestSupport
import KuraTestSupport
import Synchronization
import Testing

/// Scanning in a running server, driven by real clients: skopeo pushes an image, the scan
/// result appears in the admin API without another call, the `scan` webhook carries its
/// summary, the namespace's pull policy refuses skopeo's pull (and its allow-list admits
/// it), and an advisory import followed by a re-match updates the stored result.
@Suite("scan on push", .serialized)
struct ScanOnPushTests {
    /// A real Debian 12 advisory for openssl (fixed in 3.0.11-1~deb12u2), as OSV publishes it.
    static let opensslAdvisory = """
        {"schema_version":"1.6.0","id":"DEBIAN-CVE-2023-5363","modified":"2024-09-18T03:21:45Z","upstream":["CVE-2023-5363"],
         "details":"Issue summary: A bug has been identified in the processing of key and initialisation vector (IV) lengths.",
         "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
         "affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},
                      "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.11-1~deb12u2"}]}]}]}
        """
    /// DSA-5532-1, imported later (no severity given: UNKNOWN).
    static let dsaAdvisory = """
        {"schema_version":"1.6.0","id":"DSA-5532-1","modified":"2023-10-24T21:15:00Z","upstream":["CVE-2023-4807","CVE-2023-5363"],
         "summary":"openssl - security update",
         "affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},
                      "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.11-1~deb12u1"}]}]}]}
        """

    static let files = [
        "etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        "var/lib/dpkg/status": "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.9-1\nDescription: SSL\n\n",
    ]

    static func importAdvisory(_ json: String, named name: String, into path: String, scratch: String) async throws {
        let folder = "\(scratch)/osv-\(name)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(json.utf8).write(to: URL(fileURLWithPath: "\(folder)/\(name).json"))
        try await AdvisoryDatabase(path: path).importAdvisories(from: URL(fileURLWithPath: folder))
    }

    /// Polls `condition` until it gives a value (60 s at most).
    static func eventually<T>(_ what: String, _ condition: () async throws -> T?) async throws -> T {
        try await Poll.until(what, condition)
    }

    @Test func skopeoPushIsScannedAndThePolicyRefusesThePull() async throws {
        let deliveries = Mutex<[[UInt8]]>([])
        try await withWebhookReceiver({ body, _ in
            deliveries.withLock { $0.append(body) }
            return .ok
        }) { hookPort in
            try await withTemporaryDirectory { scratch in
                let skopeo = try SkopeoRunner(scratch: scratch)
                let image = try await TestImage.make(.oci, architecture: "amd64", files: Self.files, scratch: scratch)
                let source = "\(scratch)/oci-source"
                try OCILayoutBuilder.write(at: source, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
                let data = "\(scratch)/data"
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                let advisories = "\(data)/advisories.sqlite"
                try await Self.importAdvisory(Self.opensslAdvisory, named: "DEBIAN-CVE-2023-5363", into: advisories, scratch: scratch)

                try await withMeteredServer(dataDirectory: data) { client, _, root in
                    try await client.makeNamespace("team", root: root)
                    let hook = try await client.admin(
                        .post, "namespaces/team/webhooks", as: root,
                        json: "{\"url\":\"http://127.0.0.1:\(hookPort)/hook\",\"secret\":\"s\",\"events\":[\"scan\"]}")
                    #expect(hook.status == .created)
                    let authority = "127.0.0.1:\(try #require(client.port))"
                    let creds = "\(root.id):\(root.secret)"
                    try await skopeo.copy("oci:\(source):v1", "docker://\(authority)/team/app:v1", options: ["--dest-creds", creds])

                    // The result appears by itself: nobody asks for a scan.
                    let path = "repositories/team/app/manifests/\(image.manifest.digest)/scan"
                    let result = try await Self.eventually("the scan result") { () -> [String: Any]? in
                        let response = try await client.admin(.get, path, as: root)
                        return response.status == .ok ? response.json : nil
                    }
                    #expect(result["status"] as? String == "succeeded")
                    #expect(result["databaseImport"] as? Int == 1)
                    let findings = try #require(result["findings"] as? [[String: Any]])
                    #expect(findings.count == 1)
                    let finding = try #require(findings.first)
                    #expect(finding["id"] as? String == "DEBIAN-CVE-2023-5363")
                    #expect(finding["aliases"] as? [String] == ["CVE-2023-5363"])
                    #expect(finding["package"] as? String == "libssl3")
                    #expect(finding["installed"] as? String == "3.0.9-1")
                    #expect(finding["fixed"] as? String == "3.0.11-1~deb12u2")
                    #expect(finding["severity"] as? String == "HIGH")
                    #expect(finding["score"] as? Double == 7.5)
                    #expect((result["summary"] as? [String: Any])?["high"] as? Int == 1)
                    let validator = SchemaCheck(document: try AdminAPIDocument.load())
                    let problems = validator.problems(result, against: ["$ref": "#/components/schemas/ScanResult"], at: "scan")
                    #expect(problems.isEmpty, "\(problems)")

                    // The scan webhook, with the summary.
                    let delivered = try await Self.eventually("the scan webhook") {
                        deliveries.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
                            .first { $0["event"] as? String == "scan" }
                    }
                    #expect(delivered["digest"] as? String == image.manifest.digest.description)
                    #expect(delivered["repository"] as? String == "team/app")
                    #expect((delivered["summary"] as? [String: Any])?["high"] as? Int == 1)

                    // The policy refuses the pull, naming the count and the worst advisory.
                    let policy = try await client.admin(.put, "namespaces/team/scan-policy", as: root, json: "{\"minimumSeverity\":\"HIGH\"}")
                    #expect(policy.status == .ok)
                    let refused = try await client.v2(.get, "team/app/manifests/v1", as: root, headers: [.accept: LiveKuraRegistry.manifestAccept])
                    #expect(refused.status == .forbidden && refused.errorCode == "DENIED")
                    #expect(String(buffer: refused.body).contains("1 finding at HIGH or above; worst DEBIAN-CVE-2023-5363"))
                    do {
                        try await skopeo.copy("docker://\(authority)/team/app:v1", "dir:\(scratch)/refused", options: ["--src-creds", creds])
                        Issue.record("skopeo pulled an image the policy refuses")
                    } catch let failure as ExternalProcessFailure {
                        #expect(failure.result.stderr.contains("DEBIAN-CVE-2023-5363"), "\(failure.result.stderr)")
                    }
                    // Bad policies are refused and change nothing.
                    #expect(try await client.admin(.put, "namespaces/team/scan-policy", as: root, json: "{\"minimumSeverity\":\"SEVERE\"}").status == .badRequest)
                    #expect(try await client.admin(.put, "namespaces/nope/scan-policy", as: root, json: "{\"minimumSeverity\":\"LOW\"}").status == .notFound)
                    #expect(try await client.admin(.get, "namespaces/team/scan-policy", as: root).json?["minimumSeverity"] as? String == "HIGH")

                    // The allow-list admits it.
                    let allowed = try await client.admin(
                        .put, "namespaces/team/scan-policy", as: root, json: "{\"minimumSeverity\":\"HIGH\",\"allowList\":[\"CVE-2023-5363\"]}")
                    #expect(allowed.status == .ok)
                    try await skopeo.copy("docker://\(authority)/team/app:v1", "dir:\(scratch)/pulled", options: ["--src-creds", creds])
                    #expect(LiveKuraRegistry.fileBytes("\(scratch)/pulled/manifest.json") == image.manifest.bytes)

                    // A new advisory, then a re-match: the stored result is updated (the
                    // scanning tests count that no layer is read).
                    try await Self.importAdvisory(Self.dsaAdvisory, named: "DSA-5532-1", into: advisories, scratch: scratch)
                    let rematch = try await client.admin(.post, "scan/rematch", as: root)
                    #expect(rematch.json?["rematched"] as? Int == 1 && rematch.json?["changed"] as? Int == 1)
                    let updated = try await client.admin(.get, path, as: root).json
                    #expect((updated?["findings"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == ["DEBIAN-CVE-2023-5363", "DSA-5532-1"])
                    #expect(updated?["databaseImport"] as? Int == 2)
                }
            }
        }
    }

    @Test func aManifestNeverScannedIsUnknownAndAManualScanStoresIt() async throws {
        try await withTemporaryDirectory { scratch in
            let data = "\(scratch)/data"
            try await withMeteredServer(dataDirectory: data, mode: .router, configure: { $0.scan.onPush = false }) { client, _, root in
                try await client.makeNamespace("team", root: root)
                let viewer = try await client.makeAccount("viewer", root: root, grants: [("team", "viewer")])
                let manifest = try await client.pushConfigOnlyImage("team/app", tag: "v1", as: root)
                let path = "repositories/team/app/manifests/\(sha256(manifest))/scan"
                let unknown = try await client.admin(.get, path, as: root)
                #expect(unknown.status == .notFound && unknown.errorCode == "SCAN_UNKNOWN")
                // A viewer reads results but may not start a scan.
                #expect(try await client.admin(.post, path, as: viewer).status == .forbidden)
                let scanned = try await client.admin(.post, path, as: root)
                #expect(scanned.status == .ok && scanned.json?["status"] as? String == "succeeded")
                #expect(scanned.json?["packageCount"] as? Int == 0)
                #expect(try await client.admin(.get, path, as: viewer).json?["status"] as? String == "succeeded")
                // Bad input: a tag instead of a digest, an unknown manifest.
                #expect(try await client.admin(.get, "repositories/team/app/manifests/v1/scan", as: root).status == .badRequest)
                let missing = try await client.admin(.post, "repositories/team/app/manifests/\(sha256([1, 2, 3]))/scan", as: root)
                #expect(missing.status == .notFound && missing.errorCode == "MANIFEST_UNKNOWN")
            }
        }
    }
}
