public import Foundation
public import KuraCore

/// The result of scanning one image manifest.
public struct ScanReport: Sendable, Codable, Equatable {
    public let manifest: Digest?
    public let operatingSystem: OperatingSystem?
    public let packages: [Package]
    public let findings: [Finding]
    public let summary: SeveritySummary
    public let scannedAt: Date
    /// The advisory import the findings were matched against (nil: empty database).
    public let databaseImport: Int64?
    public let statistics: ImageFileCollector.Statistics

    public init(
        manifest: Digest?, operatingSystem: OperatingSystem?, packages: [Package], findings: [Finding],
        scannedAt: Date, databaseImport: Int64?, statistics: ImageFileCollector.Statistics
    ) {
        self.manifest = manifest
        self.operatingSystem = operatingSystem
        self.packages = packages
        self.findings = findings
        self.summary = SeveritySummary(findings)
        self.scannedAt = scannedAt
        self.databaseImport = databaseImport
        self.statistics = statistics
    }
}
