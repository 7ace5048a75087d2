import Foundation
public import KuraCore
public import KuraMetadata

/// A scan result as the catalog holds it, with the report decoded.
public struct StoredScan: Sendable {
    public let record: ScanRecord
    /// The packages and findings; `nil` unless the scan succeeded.
    public let report: ScanReport?

    public init(_ record: ScanRecord) throws {
        self.record = record
        self.report = try record.report.map(ScanReportCoding.decode)
    }

    /// The catalog record of a finished scan.
    public static func record(_ report: ScanReport, manifest: Digest, repository: RepositoryName) throws -> ScanRecord {
        ScanRecord(
            manifest: manifest, repository: repository.value, status: .succeeded, scannedAt: report.scannedAt,
            databaseImport: report.databaseImport, report: try ScanReportCoding.encode(report))
    }
}
