import Foundation
import KuraScan
import Testing

/// SBOM exports of a real scan, checked by the formats' own validators: the CycloneDX 1.5
/// JSON schema (cyclonedx-python-lib, strict) and SPDX 2.3 (spdx-tools' pyspdxtools).
@Suite struct SBOMExportTests {
    func report(in folder: URL) async throws -> ScanReport {
        let database = try AdvisoryDatabase.inMemory()
        try await database.importAdvisories(from: Fixtures.osv)
        let image = try TestImage(root: folder)
        let status = PackageSamples.dpkgStanza("libssl3", "3.0.9-1", source: "openssl") + "\n" + PackageSamples.dpkgStanza("libc6", "2.36-9+deb12u1", source: "glibc")
        try await image.addLayer(["etc/os-release": .text(PackageSamples.debianOSRelease), "var/lib/dpkg/status": .text(status)])
        try await image.addLayer([
            "app/node_modules/lodash/package.json": .text(PackageSamples.packageJSON("lodash", "4.17.20")),
            "app/node_modules/@babel/core/package.json": .text(PackageSamples.packageJSON("@babel/core", "7.22.5")),
        ])
        return try await ImageScanner(database: database).scan(manifest: nil, layers: image.layers, open: image.open)
    }

    func write(_ value: some Encodable, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(value).write(to: url)
    }

    @Test func cycloneDXValidatesAgainstTheSchema() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let report = try await report(in: folder)
            let file = folder.appendingPathComponent("bom.json")
            try write(CycloneDXDocument(report: report, imageName: "team/app:v1"), to: file)
            try await run("/usr/bin/env", ["python3", "-c", """
                import sys
                from cyclonedx.schema import SchemaVersion
                from cyclonedx.validation.json import JsonStrictValidator
                error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())
                if error: sys.exit(str(error))
                """, file.path])
            let bom = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            let components = try #require(bom["components"] as? [[String: Any]])
            #expect(Set(components.compactMap { $0["purl"] as? String }) == Set(report.packages.map(\.purl)))
            #expect(components.contains { $0["type"] as? String == "operating-system" && $0["name"] as? String == "debian" })
            let vulnerabilities = try #require(bom["vulnerabilities"] as? [[String: Any]])
            #expect(vulnerabilities.compactMap { $0["id"] as? String }.sorted() == report.findings.map(\.advisoryID).sorted())
            #expect(report.findings.count == 4)
        }
    }

    @Test func spdxValidates() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let report = try await report(in: folder)
            let file = folder.appendingPathComponent("sbom.spdx.json")
            try write(SPDXDocument(report: report, imageName: "team/app:v1"), to: file)
            let output = try await run("/usr/bin/env", ["pyspdxtools", "-i", file.path])
            #expect(!output.localizedCaseInsensitiveContains("invalid"), "\(output)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            let packages = try #require(document["packages"] as? [[String: Any]])
            #expect(packages.count == report.packages.count + 1)
            let purls = packages.flatMap { ($0["externalRefs"] as? [[String: Any]] ?? []).compactMap { $0["referenceLocator"] as? String } }
            #expect(Set(purls) == Set(report.packages.map(\.purl)))
        }
    }
}
