public import Foundation
public import KuraCore

/// The stored outcome of scanning one image manifest (by digest: the same manifest in two
/// repositories has the same packages). The scanner owns the shape of `report`; the
/// catalog keeps it as opaque JSON with the figures it needs to list and filter.
public struct ScanRecord: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Scanned: `report` holds the packages and findings.
        case succeeded
        /// The scan failed; `reason` says why (a bad layer, a missing blob…).
        case failed
        /// Not a container image (a Helm chart, an SBOM…): nothing to scan.
        case unsupported
    }

    public var manifest: Digest
    /// The repository the manifest was read from (layers are read from it on a rescan).
    public var repository: String
    public var status: Status
    public var reason: String?
    public var scannedAt: Date
    /// The advisory database import the findings were matched against.
    public var databaseImport: Int64?
    /// The scanner's report (packages, findings, summary) as JSON; `nil` unless succeeded.
    public var report: Data?

    public init(
        manifest: Digest, repository: String, status: Status, reason: String? = nil, scannedAt: Date, databaseImport: Int64? = nil,
        report: Data? = nil
    ) {
        self.manifest = manifest
        self.repository = repository
        self.status = status
        self.reason = reason
        self.scannedAt = scannedAt
        self.databaseImport = databaseImport
        self.report = report
    }
}

/// A namespace's pull policy: pulls of manifests whose unfixed findings (not allow-listed)
/// reach `minimumSeverity` are refused. Off unless set.
public struct ScanPolicy: Sendable, Equatable, Codable {
    public var namespace: String
    /// A severity name as the scanner writes it (`CRITICAL`, `HIGH`, …).
    public var minimumSeverity: String
    /// Advisory ids (or their aliases) never counted.
    public var allowList: [String]

    public init(namespace: String, minimumSeverity: String, allowList: [String]) {
        self.namespace = namespace
        self.minimumSeverity = minimumSeverity
        self.allowList = allowList
    }
}

/// Scan results and pull policies in the catalog.
public protocol ScanStore: Sendable {
    /// Stores (replacing) the result for `record.manifest`.
    func putScan(_ record: ScanRecord) async throws
    func scan(of manifest: Digest) async throws -> ScanRecord?
    /// Succeeded scans in digest order after `after`, for re-matching after an import.
    func succeededScans(after: Digest?, limit: Int) async throws -> [ScanRecord]

    func scanPolicy(namespace: String) async throws -> ScanPolicy?
    func setScanPolicy(_ policy: ScanPolicy) async throws
    /// `false` when the namespace had none.
    @discardableResult func deleteScanPolicy(namespace: String) async throws -> Bool
}
