import Foundation
import KuraScan
import Testing
import ZIPFoundation

/// Importing OSV records (real advisories, in the published schema) into the advisory database.
@Suite struct AdvisoryDatabaseTests {
    @Test func importsAFolderAcrossEcosystems() async throws {
        let database = try AdvisoryDatabase.inMemory()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let result = try await database.importAdvisories(from: Fixtures.osv, now: now)
        #expect(result.counts.documents == Fixtures.osvCount)
        #expect(result.counts.added == Fixtures.osvCount)
        #expect(result.counts.updated == 0 && result.counts.unchanged == 0)

        let status = try await database.status()
        #expect(status.advisories == Fixtures.osvCount)
        #expect(status.latestImport?.importedAt == now)
        #expect(status.latestImport?.counts == result.counts)

        let bookworm = try await database.entries(ecosystem: .debian, release: "12", package: "openssl")
        #expect(bookworm.map(\.id) == ["DEBIAN-CVE-2023-5363", "DSA-5532-1"])
        #expect(bookworm[1].aliases == ["CVE-2023-4807", "CVE-2023-5363"])
        let trixie = try await database.entries(ecosystem: .debian, release: "13", package: "openssl")
        #expect(trixie.map(\.id) == ["DEBIAN-CVE-2023-5363"])
        #expect(try await database.entries(ecosystem: .alpine, release: "3.18", package: "openssl").map(\.id) == ["ALPINE-CVE-2023-5363"])
        #expect(try await database.entries(ecosystem: .ubuntu, release: "22.04", package: "openssl").map(\.id) == ["UBUNTU-CVE-2023-0464"])
        #expect(try await database.entries(ecosystem: .rocky, release: "8", package: "openssl-libs").map(\.id) == ["RLSA-2022:1065"])
        #expect(try await database.entries(ecosystem: .pypi, release: "", package: "requests").map(\.id) == ["GHSA-j8r2-6x86-q33q"])
        #expect(try await database.entries(ecosystem: .npm, release: "", package: "lodash").map(\.id) == ["GHSA-35jh-r3h4-6jhm"])
        #expect(try await database.entries(ecosystem: .go, release: "", package: "golang.org/x/text").map(\.id) == ["GO-2022-1059"])
        let log4j = try await database.entries(ecosystem: .maven, release: "", package: "org.apache.logging.log4j:log4j-core")
        #expect(log4j.count == 3)
        #expect(log4j.allSatisfy { $0.id == "GHSA-jfh8-c2jp-5v3q" && $0.aliases == ["CVE-2021-44228"] })
    }

    @Test func severityComesFromTheVectorElseTheDatabaseLabel() async throws {
        let database = try AdvisoryDatabase.inMemory()
        try await database.importAdvisories(from: Fixtures.osv)
        let debianCVE = try await database.entries(ecosystem: .debian, release: "12", package: "openssl").first { $0.id == "DEBIAN-CVE-2023-5363" }
        #expect(debianCVE?.severity == .high && debianCVE?.score == 7.5)
        // DSAs carry no severity.
        let dsa = try await database.entries(ecosystem: .debian, release: "12", package: "openssl").first { $0.id == "DSA-5532-1" }
        #expect(dsa?.severity == .unknown && dsa?.score == nil)
        // A vector wins over Ubuntu's own priority label.
        #expect(try await database.entries(ecosystem: .ubuntu, release: "22.04", package: "openssl").first?.score == 7.5)
        // Only a label: Rocky's "Important".
        let rocky = try await database.entries(ecosystem: .rocky, release: "8", package: "openssl-libs").first
        #expect(rocky?.severity == .high && rocky?.score == nil)
        #expect(try await database.entries(ecosystem: .maven, release: "", package: "org.apache.logging.log4j:log4j-core").first?.score == 10.0)
        #expect(try await database.entries(ecosystem: .pypi, release: "", package: "requests").first?.score == 6.1)
    }

    @Test func reimportKeepsUnchangedReplacesChangedRemovesWithdrawn() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let osv = try Fixtures.copyOSV(into: folder)
            let database = try AdvisoryDatabase.inMemory()
            let first = try await database.importAdvisories(from: osv)

            let again = try await database.importAdvisories(from: osv)
            #expect(again.counts.unchanged == Fixtures.osvCount && again.counts.added == 0 && again.counts.updated == 0)
            #expect(again.id == first.id + 1)

            // The DSA gets a later fixed version; the lodash advisory is withdrawn.
            let dsa = osv.appendingPathComponent("debian/DSA-5532-1.json")
            try String(contentsOf: dsa, encoding: .utf8)
                .replacingOccurrences(of: "3.0.11-1~deb12u1", with: "3.0.11-1~deb12u9")
                .replacingOccurrences(of: "2023-10-24T21:15:00Z", with: "2024-01-01T00:00:00Z")
                .write(to: dsa, atomically: true, encoding: .utf8)
            let lodash = osv.appendingPathComponent("npm/GHSA-35jh-r3h4-6jhm.json")
            try String(contentsOf: lodash, encoding: .utf8)
                .replacingOccurrences(of: "\"published\"", with: "\"withdrawn\": \"2024-03-01T00:00:00Z\", \"published\"")
                .write(to: lodash, atomically: true, encoding: .utf8)

            let third = try await database.importAdvisories(from: osv)
            #expect(third.counts.updated == 1)
            #expect(third.counts.withdrawn == 1)
            #expect(third.counts.unchanged == Fixtures.osvCount - 2)
            let entry = try await database.entries(ecosystem: .debian, release: "12", package: "openssl").first { $0.id == "DSA-5532-1" }
            let verdict = try #require(entry).verdict(for: "3.0.11-1~deb12u1")
            #expect(verdict.fixedVersion == "3.0.11-1~deb12u9")
            #expect(try await database.entries(ecosystem: .npm, release: "", package: "lodash").isEmpty)
            #expect(try await database.status().advisories == Fixtures.osvCount - 1)
        }
    }

    @Test func importsAZipAsOSVPublishesThem() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let zip = folder.appendingPathComponent("all.zip")
            try FileManager.default.zipItem(at: Fixtures.osv, to: zip, shouldKeepParent: false, compressionMethod: .deflate)
            let database = try AdvisoryDatabase.inMemory()
            let result = try await database.importAdvisories(from: zip)
            #expect(result.counts.added == Fixtures.osvCount)
            #expect(try await database.entries(ecosystem: .go, release: "", package: "golang.org/x/text").count == 1)
        }
    }

    @Test func aCorruptRecordImportsNothing() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let osv = try Fixtures.copyOSV(into: folder)
            // Sorted last, so every other record was already written inside the transaction.
            try Data("{\"id\": \"ZZZ-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [".utf8)
                .write(to: osv.appendingPathComponent("zzz-truncated.json"))
            let database = try AdvisoryDatabase.inMemory()
            await #expect(throws: AdvisoryImportError.self) { try await database.importAdvisories(from: osv) }
            let status = try await database.status()
            #expect(status.advisories == 0 && status.affectedPackages == 0 && status.latestImport == nil)

            // A record missing a required field is refused the same way, and names the field.
            try FileManager.default.removeItem(at: osv.appendingPathComponent("zzz-truncated.json"))
            try Data("{\"id\": \"ZZZ-2\"}".utf8).write(to: osv.appendingPathComponent("zzz-incomplete.json"))
            do {
                try await database.importAdvisories(from: osv)
                Issue.record("import of a record without 'modified' succeeded")
            } catch let error as AdvisoryImportError {
                #expect(error == .invalidDocument(name: "zzz-incomplete.json", reason: "missing field 'modified'"))
            }
            #expect(try await database.status().advisories == 0)
        }
    }

    @Test func aDamagedZipImportsNothing() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let zip = folder.appendingPathComponent("all.zip")
            try FileManager.default.zipItem(at: Fixtures.osv, to: zip, shouldKeepParent: false)
            var bytes = try Data(contentsOf: zip)
            // Damage the data of one entry, just after its local header: its CRC no longer matches.
            let name = Data("GO-2022-1059.json".utf8)
            let header = try #require(bytes.range(of: name))
            bytes[header.upperBound + 40] ^= 0xFF
            bytes[header.upperBound + 41] ^= 0xFF
            try bytes.write(to: zip)
            let database = try AdvisoryDatabase.inMemory()
            await #expect(throws: AdvisoryImportError.self) { try await database.importAdvisories(from: zip) }
            #expect(try await database.status().advisories == 0)

            try Data("not a zip at all".utf8).write(to: zip)
            await #expect(throws: AdvisoryImportError.self) { try await database.importAdvisories(from: zip) }
        }
    }

    @Test func recordsForUnknownEcosystemsAreSkipped() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let record = """
                {"id": "RUSTSEC-2023-0044", "modified": "2023-07-01T00:00:00Z",
                 "affected": [{"package": {"ecosystem": "crates.io", "name": "openssl"},
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.10.55"}]}]}]}
                """
            let file = folder.appendingPathComponent("RUSTSEC-2023-0044.json")
            try Data(record.utf8).write(to: file)
            let database = try AdvisoryDatabase.inMemory()
            let result = try await database.importAdvisories(from: file)
            #expect(result.counts.skipped == 1 && result.counts.added == 0)
            #expect(try await database.status().advisories == 0)
        }
    }

    @Test func aDatabaseFileKeepsItsContentAcrossOpens() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("advisories.sqlite").path
            try await AdvisoryDatabase(path: path).importAdvisories(from: Fixtures.osv)
            let reopened = try AdvisoryDatabase(path: path)
            #expect(try await reopened.status().advisories == Fixtures.osvCount)
        }
    }
}
