import Foundation
import KuraCore
import KuraScan
import Testing

/// Whole scans: images built here, matched against the real advisories in the OSV fixtures.
@Suite struct ScanMatchingTests {
    /// A Debian 12 image as it was at bookworm's release, with language packages on top.
    func bookwormImage(in folder: URL) async throws -> TestImage {
        let image = try TestImage(root: folder)
        let status = PackageSamples.dpkgStanza("openssl", "3.0.9-1")
            + "\n" + PackageSamples.dpkgStanza("libssl3", "3.0.9-1", source: "openssl")
            + "\n" + PackageSamples.dpkgStanza("libc6", "2.36-9+deb12u1", source: "glibc")
            + "\n" + PackageSamples.dpkgStanza("zlib1g", "1:1.2.13.dfsg-1", source: "zlib")
        try await image.addLayer(["etc/os-release": .text(PackageSamples.debianOSRelease), "var/lib/dpkg/status": .text(status)])
        let binary = try await PackageSamples.goBinary(textVersion: "v0.3.7", in: folder)
        try await image.addLayer([
            "usr/local/lib/python3.11/site-packages/requests-2.28.0.dist-info/METADATA": .text(PackageSamples.pythonMetadata("requests", "2.28.0")),
            "app/node_modules/lodash/package.json": .text(PackageSamples.packageJSON("lodash", "4.17.20")),
            "app/bin/server": .copy(from: binary.path, mode: 0o755),
            "app/lib/log4j-core-2.14.1.jar": .bytes(Array(try PackageSamples.jar(group: "org.apache.logging.log4j", artifact: "log4j-core", version: "2.14.1"))),
        ], compression: .zstd)
        return image
    }

    @Test func findingsForEveryEcosystemThroughSourcePackages() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let database = try AdvisoryDatabase.inMemory()
            let imported = try await database.importAdvisories(from: Fixtures.osv)
            let image = try await bookwormImage(in: folder)
            let report = try await ImageScanner(database: database).scan(manifest: nil, layers: image.layers, open: image.open)

            let found = Set(report.findings.map { "\($0.advisoryID) \($0.packageName) \($0.installedVersion) -> \($0.fixedVersion ?? "none")" })
            #expect(found == [
                "DSA-5532-1 openssl 3.0.9-1 -> 3.0.11-1~deb12u1",
                "DSA-5532-1 libssl3 3.0.9-1 -> 3.0.11-1~deb12u1",
                "DEBIAN-CVE-2023-5363 openssl 3.0.9-1 -> 3.0.11-1~deb12u2",
                "DEBIAN-CVE-2023-5363 libssl3 3.0.9-1 -> 3.0.11-1~deb12u2",
                "DEBIAN-CVE-2023-4911 libc6 2.36-9+deb12u1 -> 2.36-9+deb12u3",
                "GHSA-j8r2-6x86-q33q requests 2.28.0 -> 2.31.0",
                "GHSA-35jh-r3h4-6jhm lodash 4.17.20 -> 4.17.21",
                "GO-2022-1059 golang.org/x/text v0.3.7 -> 0.3.8",
                "GHSA-jfh8-c2jp-5v3q org.apache.logging.log4j:log4j-core 2.14.1 -> 2.15.0",
            ])
            let glibc = try #require(report.findings.first { $0.packageName == "libc6" })
            #expect(glibc.sourceName == "glibc" && glibc.aliases == ["CVE-2023-4911"] && glibc.severity == .high && glibc.score == 7.8)
            #expect(report.findings.first { $0.advisoryID == "DSA-5532-1" }?.aliases == ["CVE-2023-4807", "CVE-2023-5363"])
            let log4j = try #require(report.findings.first { $0.advisoryID == "GHSA-jfh8-c2jp-5v3q" })
            #expect(log4j.severity == .critical && log4j.score == 10.0 && log4j.aliases == ["CVE-2021-44228"] && log4j.layerIndex == 1)
            // Worst first.
            #expect(report.findings.first?.severity == .critical)
            #expect(report.summary.critical == 1 && report.summary.high == 4 && report.summary.medium == 1 && report.summary.unknown == 3)
            #expect(report.summary.total == 9 && report.summary.unfixed == 0)
            #expect(report.databaseImport == imported.id)
            #expect(report.operatingSystem?.versionID == "12")
            #expect(report.statistics.layers == 2)
        }
    }

    /// This machine's real, patched Debian: the 2023 openssl and glibc advisories no longer apply.
    @Test func thisMachinesPatchedPackagesAreNotReported() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let database = try AdvisoryDatabase.inMemory()
            try await database.importAdvisories(from: Fixtures.osv)
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/os-release": .copy(from: "/etc/os-release"), "var/lib/dpkg/status": .copy(from: "/var/lib/dpkg/status")])
            let report = try await ImageScanner(database: database).scan(manifest: nil, layers: image.layers, open: image.open)
            #expect(report.packages.contains { $0.sourceName == "openssl" })
            #expect(report.findings.isEmpty, "\(report.findings.map(\.advisoryID))")
        }
    }

    @Test func distributionAdvisoriesApplyOnlyToTheirRelease() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let database = try AdvisoryDatabase.inMemory()
            try await database.importAdvisories(from: Fixtures.osv)
            let installed = PackageSamples.apkStanza("libcrypto3", "3.1.2-r0", origin: "openssl")
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/os-release": .text(PackageSamples.alpineOSRelease), "lib/apk/db/installed": .text(installed)])
            let report = try await ImageScanner(database: database).scan(manifest: nil, layers: image.layers, open: image.open)
            #expect(report.findings.map(\.advisoryID) == ["ALPINE-CVE-2023-5363"])
            #expect(report.findings.first?.fixedVersion == "3.1.4-r0")

            let newer = try TestImage(root: folder.appendingPathComponent("3.19"))
            try await newer.addLayer([
                "etc/os-release": .text(PackageSamples.alpineOSRelease.replacingOccurrences(of: "3.18.4", with: "3.19.0")),
                "lib/apk/db/installed": .text(installed),
            ])
            let other = try await ImageScanner(database: database).scan(manifest: nil, layers: newer.layers, open: newer.open)
            #expect(other.packages.count == 1 && other.findings.isEmpty)
        }
    }

    /// Rocky Linux advisories name binary packages; the EVR (with epoch) decides.
    @Test func rpmPackagesMatchRockyAdvisories() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let database = try AdvisoryDatabase.inMemory()
            try await database.importAdvisories(from: Fixtures.osv)
            let rpmdb = folder.appendingPathComponent("rpmdb.sqlite")
            try RpmDatabaseBuilder.database([
                .init(name: "openssl-libs", epoch: 1, version: "1.1.1k", release: "5.el8_5", arch: "x86_64", sourceRPM: "openssl-1.1.1k-5.el8_5.src.rpm"),
                .init(name: "openssl", epoch: 1, version: "1.1.1k", release: "5.el8_5", arch: "x86_64", sourceRPM: "openssl-1.1.1k-5.el8_5.src.rpm"),
            ], at: rpmdb)
            let image = try TestImage(root: folder)
            try await image.addLayer([
                "etc/os-release": .text("NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"8.5\"\n"),
                "var/lib/rpm/rpmdb.sqlite": .copy(from: rpmdb.path),
            ])
            let report = try await ImageScanner(database: database).scan(manifest: nil, layers: image.layers, open: image.open)
            #expect(report.findings.map { "\($0.advisoryID) \($0.packageName) \($0.fixedVersion ?? "")" } == ["RLSA-2022:1065 openssl-libs 1:1.1.1k-6.el8_5"])
            #expect(report.findings.first?.severity == .high)
        }
    }

    /// After an import with a new advisory, stored package lists are matched again without
    /// reading a single layer.
    @Test func rematchAfterImportReadsNoLayer() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let database = try AdvisoryDatabase.inMemory()
            try await database.importAdvisories(from: Fixtures.osv)
            let image = try await bookwormImage(in: folder)
            let scanner = ImageScanner(database: database)
            let first = try await scanner.scan(manifest: nil, layers: image.layers, open: image.open)
            let readsAfterScan = image.blobReads
            #expect(readsAfterScan == 2)
            #expect(!first.findings.contains { $0.packageName == "zlib1g" })

            // CVE-2023-45853 (zlib MiniZip overflow), as Debian's tracker exports it.
            let record = """
                {"schema_version": "1.6.0", "id": "DEBIAN-CVE-2023-45853", "modified": "2024-09-18T03:22:30Z",
                 "published": "2023-10-14T02:15:09Z", "upstream": ["CVE-2023-45853"],
                 "details": "MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64.",
                 "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                 "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib", "purl": "pkg:deb/debian/zlib?arch=source"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
                """
            let file = folder.appendingPathComponent("DEBIAN-CVE-2023-45853.json")
            try Data(record.utf8).write(to: file)
            let second = try await database.importAdvisories(from: file)

            let again = try await scanner.rematch(
                manifest: nil, operatingSystem: first.operatingSystem, packages: first.packages, statistics: first.statistics)
            #expect(image.blobReads == readsAfterScan)
            let zlib = try #require(again.findings.first { $0.packageName == "zlib1g" })
            #expect(zlib.advisoryID == "DEBIAN-CVE-2023-45853" && zlib.fixedVersion == nil && zlib.severity == .critical)
            #expect(again.summary.unfixed == 1)
            #expect(again.findings.count == first.findings.count + 1)
            #expect(again.databaseImport == second.id)
        }
    }

    @Test func aBadLayerFailsTheScanWithItsReason() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/os-release": .text(PackageSamples.debianOSRelease)])
            let whole = try await TestImage.pack(["var/lib/dpkg/status": .text(String(repeating: PackageSamples.dpkgStanza("x", "1") + "\n", count: 2000))], compression: .gzip, in: folder)
            try await image.addBlob(Array(whole.prefix(whole.count - 100)))
            do {
                _ = try await ImageScanner(database: try AdvisoryDatabase.inMemory()).scan(manifest: nil, layers: image.layers, open: image.open)
                Issue.record("a scan over a truncated layer succeeded")
            } catch let failure as ImageFileCollector.LayerFailure {
                #expect(failure.layerIndex == 1)
                #expect("\(failure)".contains("truncated compressed stream"))
            }
        }
    }
}
