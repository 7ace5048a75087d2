public import Foundation
public import KuraMetadata

/// Re-matches the stored package lists of every succeeded scan against the advisory
/// database as it is now (after an import), and stores the new findings. No layer is read.
public struct StoredScanRematcher: Sendable {
    public struct Summary: Sendable, Codable, Equatable {
        /// Results matched again.
        public var rematched = 0
        /// Of those, results whose findings changed.
        public var changed = 0
        /// Results already matched against the latest import.
        public var current = 0
        /// Results whose stored report could not be read (left as they were).
        public var unreadable = 0
    }

    public let store: any ScanStore
    public let scanner: ImageScanner

    public init(store: any ScanStore, scanner: ImageScanner) {
        self.store = store
        self.scanner = scanner
    }

    /// `progress` gets the running summary after each page of results. `changed` is told of
    /// each result whose findings changed (the server announces it).
    public func rematchAll(
        now: Date = Date(), pageSize: Int = 200, progress: @Sendable (Summary) -> Void = { _ in },
        changed: @Sendable (ScanRecord) async -> Void = { _ in }
    ) async throws -> Summary {
        let latest = try await scanner.matcher.database.status().latestImport?.id
        var summary = Summary()
        var cursor: ScanRecord? = nil
        while true {
            let page = try await store.succeededScans(after: cursor?.manifest, limit: pageSize)
            for record in page {
                if record.databaseImport == latest && latest != nil {
                    summary.current += 1
                    continue
                }
                guard let data = record.report, let old = try? ScanReportCoding.decode(data) else {
                    summary.unreadable += 1
                    continue
                }
                let report = try await scanner.rematch(
                    manifest: old.manifest, operatingSystem: old.operatingSystem, packages: old.packages, statistics: old.statistics, now: now)
                var updated = record
                updated.databaseImport = report.databaseImport
                updated.scannedAt = now
                updated.report = try ScanReportCoding.encode(report)
                try await store.putScan(updated)
                summary.rematched += 1
                if report.findings != old.findings {
                    summary.changed += 1
                    await changed(updated)
                }
            }
            progress(summary)
            guard page.count == pageSize, let last = page.last else { return summary }
            cursor = last
        }
    }
}
