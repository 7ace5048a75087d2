import Foundation

/// A finding's severity, in the bands CVSS v3/v4 define for a base score, plus
/// `unknown` for advisories that give neither a vector nor a database severity.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case unknown = "UNKNOWN"
    case none = "NONE"
    case low = "LOW"
    case medium = "MEDIUM"
    case high = "HIGH"
    case critical = "CRITICAL"

    /// The CVSS qualitative rating of a base score (0.0 None, 0.1–3.9 Low, 4.0–6.9 Medium,
    /// 7.0–8.9 High, 9.0–10.0 Critical).
    public init(score: Double) {
        switch score {
        case ..<0.1: self = .none
        case ..<4.0: self = .low
        case ..<7.0: self = .medium
        case ..<9.0: self = .high
        default: self = .critical
        }
    }

    /// A database-specific label ("moderate", "important", "negligible", …) mapped to a band.
    public init(label: String) {
        switch label.lowercased().trimmingCharacters(in: .whitespaces) {
        case "critical": self = .critical
        case "high", "important": self = .high
        case "medium", "moderate": self = .medium
        case "low", "negligible", "unimportant": self = .low
        case "none": self = .none
        default: self = .unknown
        }
    }

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}
