/// One known vulnerability in one installed package.
public struct Finding: Sendable, Hashable, Codable {
    public let advisoryID: String
    /// CVE ids (and other ids) the advisory is also known by.
    public let aliases: [String]
    public let summary: String
    public let packageName: String
    public let installedVersion: String
    public let ecosystem: Ecosystem
    /// The source package the advisory names, for distribution packages.
    public let sourceName: String?
    /// The version to upgrade to, or nil when no fix is published.
    public let fixedVersion: String?
    public let severity: Severity
    public let score: Double?
    public let vector: String?
    public let layerIndex: Int
    public let purl: String
}

/// Findings counted by severity.
public struct SeveritySummary: Sendable, Hashable, Codable {
    public var critical = 0
    public var high = 0
    public var medium = 0
    public var low = 0
    public var none = 0
    public var unknown = 0
    /// Findings with no published fix.
    public var unfixed = 0

    public init(_ findings: [Finding]) {
        for finding in findings {
            switch finding.severity {
            case .critical: critical += 1
            case .high: high += 1
            case .medium: medium += 1
            case .low: low += 1
            case .none: none += 1
            case .unknown: unknown += 1
            }
            if finding.fixedVersion == nil { unfixed += 1 }
        }
    }

    public var total: Int { critical + high + medium + low + none + unknown }
}
