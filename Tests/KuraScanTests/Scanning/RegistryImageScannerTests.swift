import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraScan
import KuraStorage
import Logging
import NIOCore
import Testing

/// Scanning images pushed into a real Registry (filesystem blobs, SQLite catalog), by tag
/// and through an index.
@Suite struct RegistryImageScannerTests {
    func pushImage(
        _ layers: [[String: LayerFile]], to registry: TestRegistry, in repository: RepositoryName, tag: String?,
        configType: String = MediaType.ociConfig
    ) async throws -> (digest: Digest, size: Int) {
        try await registry.pushImage(layers, in: repository, tag: tag, configType: configType)
    }

    func database() async throws -> AdvisoryDatabase {
        let database = try AdvisoryDatabase.inMemory()
        try await database.importAdvisories(from: Fixtures.osv)
        return database
    }

    @Test func scansAnImageByTagReadingItsLayersFromTheRegistry() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let registry = test.registry
            let repository = try RepositoryName(parsing: "team/app")
            let pushed = try await pushImage([
                ["etc/os-release": .text(PackageSamples.debianOSRelease), "var/lib/dpkg/status": .text(PackageSamples.dpkgStanza("libssl3", "3.0.9-1", source: "openssl"))],
                ["app/node_modules/lodash/package.json": .text(PackageSamples.packageJSON("lodash", "4.17.20"))],
            ], to: test, in: repository, tag: "v1")
            let scanner = RegistryImageScanner(registry: registry, scanner: ImageScanner(database: try await database()))
            let reports = try await scanner.scan(try Reference(parsing: "v1"), in: repository)
            #expect(reports.count == 1)
            let report = try #require(reports.first)
            #expect(report.manifest == pushed.digest)
            #expect(Set(report.findings.map(\.advisoryID)) == ["DSA-5532-1", "DEBIAN-CVE-2023-5363", "GHSA-35jh-r3h4-6jhm"])
            #expect(report.findings.first { $0.packageName == "lodash" }?.layerIndex == 1)
        }
    }

    @Test func scansEachPlatformImageOfAnIndex() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let registry = test.registry
            let repository = try RepositoryName(parsing: "team/multi")
            let amd64 = try await pushImage([["app/node_modules/lodash/package.json": .text(PackageSamples.packageJSON("lodash", "4.17.20"))]],
                                            to: test, in: repository, tag: nil)
            let arm64 = try await pushImage([["app/node_modules/lodash/package.json": .text(PackageSamples.packageJSON("lodash", "4.17.21"))]],
                                            to: test, in: repository, tag: nil)
            // A BuildKit attestation manifest, which is not an image to scan.
            let attestation = try await pushImage([], to: test, in: repository, tag: nil)
            func entry(_ image: (digest: Digest, size: Int), _ architecture: String, os: String = "linux") -> String {
                "{\"mediaType\":\"\(MediaType.ociManifest)\",\"digest\":\"\(image.digest)\",\"size\":\(image.size),\"platform\":{\"architecture\":\"\(architecture)\",\"os\":\"\(os)\"}}"
            }
            let index = """
                {"schemaVersion":2,"mediaType":"\(MediaType.ociIndex)","manifests":[\(entry(amd64, "amd64")),\(entry(arm64, "arm64")),\(entry(attestation, "unknown", os: "unknown"))]}
                """
            _ = try await registry.putManifest(ByteBuffer(string: index), contentType: MediaType.ociIndex, reference: try Reference(parsing: "multi"), in: repository)
            let scanner = RegistryImageScanner(registry: registry, scanner: ImageScanner(database: try await database()))
            let reports = try await scanner.scan(try Reference(parsing: "multi"), in: repository)
            #expect(reports.map(\.manifest) == [amd64.digest, arm64.digest])
            #expect(reports[0].findings.map(\.advisoryID) == ["GHSA-35jh-r3h4-6jhm"])
            #expect(reports[1].findings.isEmpty && reports[1].packages.count == 1)
        }
    }

    @Test func anArtifactIsNotAnImage() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let test = try TestRegistry(folder: folder)
            let registry = test.registry
            let repository = try RepositoryName(parsing: "team/chart")
            _ = try await pushImage([["chart.yaml": .text("name: x")]], to: test, in: repository, tag: "1.0",
                                    configType: "application/vnd.cncf.helm.config.v1+json")
            let scanner = RegistryImageScanner(registry: registry, scanner: ImageScanner(database: try AdvisoryDatabase.inMemory()))
            await #expect(throws: ScanError.self) { try await scanner.scan(try Reference(parsing: "1.0"), in: repository) }
        }
    }
}
