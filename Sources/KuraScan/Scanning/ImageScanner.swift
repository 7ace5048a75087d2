public import Foundation
public import KuraCore
public import KuraStorage

/// Scans an image's layers: reads the files detectors ask for, detects the OS and the
/// packages, and matches them against the advisory database.
public struct ImageScanner: Sendable {
    public let matcher: VulnerabilityMatcher
    public let detectors: [any PackageDetector]
    public let limits: LayerLimits
    private let osDetector = OperatingSystemDetector()

    public init(database: AdvisoryDatabase, detectors: [any PackageDetector] = PackageDetectors.all, limits: LayerLimits = LayerLimits()) {
        self.matcher = VulnerabilityMatcher(database: database)
        self.detectors = detectors
        self.limits = limits
    }

    /// The packages in the image whose layers (bottom first) `open` streams.
    public func detect(
        layers: [Digest], open: @escaping @Sendable (Digest) async throws -> ObjectBody
    ) async throws -> (OperatingSystem?, [Package], ImageFileCollector.Statistics) {
        let detectors = self.detectors
        let osDetector = self.osDetector
        let (files, statistics) = try await ImageFileCollector(limits: limits).collect(layers: layers, open: open) { entry in
            detectors.reduce(osDetector.interest(in: entry)) { max($0, $1.interest(in: entry)) }
        }
        let os = osDetector.operatingSystem(in: files)
        let packages = detectors.flatMap { $0.packages(in: files, os: os) }
        return (os, packages, statistics)
    }

    /// Detects and matches.
    public func scan(
        manifest: Digest?, layers: [Digest], open: @escaping @Sendable (Digest) async throws -> ObjectBody, now: Date = Date()
    ) async throws -> ScanReport {
        let (os, packages, statistics) = try await detect(layers: layers, open: open)
        return try await rematch(manifest: manifest, operatingSystem: os, packages: packages, statistics: statistics, now: now)
    }

    /// Matches a stored package list again (after a database import), reading no layer.
    public func rematch(
        manifest: Digest?, operatingSystem: OperatingSystem?, packages: [Package],
        statistics: ImageFileCollector.Statistics, now: Date = Date()
    ) async throws -> ScanReport {
        let findings = try await matcher.match(packages, os: operatingSystem)
        let databaseImport = try await matcher.database.status().latestImport?.id
        return ScanReport(
            manifest: manifest, operatingSystem: operatingSystem, packages: packages, findings: findings,
            scannedAt: now, databaseImport: databaseImport, statistics: statistics)
    }
}
