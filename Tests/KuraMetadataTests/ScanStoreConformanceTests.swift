import Foundation
import KuraCore
import KuraMetadata
import Testing

/// Scan results and pull policies, run against every catalog in ``CatalogFixture/all``; a
/// result stored through one handle is read through another (another node).
@Suite("ScanStore conformance")
struct ScanStoreConformanceTests {
    static func record(_ n: Int, status: ScanRecord.Status = .succeeded, report: Data? = Data("{\"packages\":[]}".utf8)) -> ScanRecord {
        ScanRecord(
            manifest: digest(n), repository: "team/app", status: status, reason: status == .failed ? "layer unreadable" : nil,
            scannedAt: date(milliseconds: 1_700_000_000_000 + Int64(n)), databaseImport: status == .succeeded ? 7 : nil,
            report: status == .succeeded ? report : nil)
    }

    @Test(arguments: CatalogFixture.all)
    func resultsAreStoredReplacedAndRead(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.scans
            #expect(try await store.scan(of: digest(1)) == nil)
            let binary = Data([0x00, 0xff, 0x7b, 0x0a]) + Data(repeating: 0x41, count: 70_000)
            try await store.putScan(Self.record(1, report: binary))
            #expect(try await store.scan(of: digest(1)) == Self.record(1, report: binary))
            // Replaced whole: a failed rescan clears the report and import.
            try await store.putScan(Self.record(1, status: .failed))
            let failed = try #require(try await store.scan(of: digest(1)))
            #expect(failed.status == .failed && failed.reason == "layer unreadable" && failed.report == nil && failed.databaseImport == nil)
            try await store.putScan(Self.record(2, status: .unsupported))
            #expect(try await store.scan(of: digest(2))?.status == .unsupported)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func succeededScansArePagedInDigestOrder(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.scans
            for n in [5, 1, 4, 2, 3] { try await store.putScan(Self.record(n)) }
            try await store.putScan(Self.record(6, status: .failed))
            try await store.putScan(Self.record(7, status: .unsupported))
            let first = try await store.succeededScans(after: nil, limit: 2)
            #expect(first.map(\.manifest) == [digest(1), digest(2)])
            let rest = try await store.succeededScans(after: digest(2), limit: 10)
            #expect(rest.map(\.manifest) == [digest(3), digest(4), digest(5)])
            #expect(try await store.succeededScans(after: digest(5), limit: 10).isEmpty)
            #expect(try await store.succeededScans(after: nil, limit: 0).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func policiesAreSetReplacedAndDeleted(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let store = catalog.scans
            #expect(try await store.scanPolicy(namespace: "team") == nil)
            try await store.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "HIGH", allowList: ["CVE-2024-1", "GHSA-x"]))
            try await store.setScanPolicy(ScanPolicy(namespace: "other", minimumSeverity: "LOW", allowList: []))
            #expect(try await store.scanPolicy(namespace: "team") == ScanPolicy(namespace: "team", minimumSeverity: "HIGH", allowList: ["CVE-2024-1", "GHSA-x"]))
            try await store.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "CRITICAL", allowList: ["CVE-2024-2"]))
            #expect(try await store.scanPolicy(namespace: "team") == ScanPolicy(namespace: "team", minimumSeverity: "CRITICAL", allowList: ["CVE-2024-2"]))
            #expect(try await store.scanPolicy(namespace: "other")?.allowList == [])
            #expect(try await store.deleteScanPolicy(namespace: "team"))
            #expect(try await store.deleteScanPolicy(namespace: "team") == false)
            #expect(try await store.scanPolicy(namespace: "team") == nil)
        }
    }

    @Test(arguments: CatalogFixture.shared)
    func anotherNodeSeesResultsAndPolicies(_ fixture: CatalogFixture) async throws {
        try await fixture.withMade { made in
            let reopen = try #require(made.reopen)
            try await made.catalog.scans.putScan(Self.record(9))
            try await made.catalog.scans.setScanPolicy(ScanPolicy(namespace: "team", minimumSeverity: "HIGH", allowList: []))
            let other = try await reopen()
            #expect(try await other.scans.scan(of: digest(9)) == Self.record(9))
            #expect(try await other.scans.scanPolicy(namespace: "team")?.minimumSeverity == "HIGH")
        }
    }
}
