public import Foundation

/// A scan report as a CycloneDX 1.5 JSON BOM: the image as the described component, each
/// package as a library (the OS as an operating-system component), each finding as a
/// vulnerability affecting its package.
public struct CycloneDXDocument: Encodable, Sendable {
    public static let mediaType = "application/vnd.cyclonedx+json"

    struct Tool: Encodable { let type = "application"; let name = "kura" }
    struct Tools: Encodable { let components = [Tool()] }
    struct Property: Encodable { let name: String; let value: String }

    struct Component: Encodable {
        let type: String
        let bomRef: String
        let name: String
        let version: String?
        let purl: String?
        let properties: [Property]?

        enum CodingKeys: String, CodingKey {
            case type, name, version, purl, properties
            case bomRef = "bom-ref"
        }
    }

    struct Metadata: Encodable {
        let timestamp: String
        let tools = Tools()
        let component: Component
    }

    struct Rating: Encodable {
        let score: Double?
        let severity: String
        let method: String?
        let vector: String?
    }

    struct Affects: Encodable { let ref: String }

    struct Vulnerability: Encodable {
        let bomRef: String
        let id: String
        let description: String?
        let ratings: [Rating]
        let affects: [Affects]
        let recommendation: String?
        let references: [Reference]?

        struct Reference: Encodable {
            let id: String
            let source: Source
        }

        struct Source: Encodable { let name: String }

        enum CodingKeys: String, CodingKey {
            case id, description, ratings, affects, recommendation, references
            case bomRef = "bom-ref"
        }
    }

    let bomFormat = "CycloneDX"
    let specVersion = "1.5"
    let serialNumber: String
    let version = 1
    let metadata: Metadata
    let components: [Component]
    let vulnerabilities: [Vulnerability]

    public init(report: ScanReport, imageName: String, serial: UUID = UUID()) {
        serialNumber = "urn:uuid:\(serial.uuidString.lowercased())"
        let imageRef = report.manifest?.description ?? imageName
        metadata = Metadata(
            timestamp: SBOMDates.string(report.scannedAt),
            component: Component(type: "container", bomRef: imageRef, name: imageName, version: report.manifest?.description, purl: nil, properties: nil))
        var components: [Component] = []
        if let os = report.operatingSystem {
            components.append(Component(type: "operating-system", bomRef: "os:\(os.id)-\(os.versionID)", name: os.id, version: os.versionID, purl: nil, properties: nil))
        }
        // One component per purl: the same package recorded twice (two jars) is one library.
        var seen = Set<String>()
        for package in report.packages where seen.insert(package.purl).inserted {
            components.append(Component(
                type: "library", bomRef: package.purl, name: package.name, version: package.version, purl: package.purl,
                properties: [Property(name: "kura:ecosystem", value: package.ecosystem.rawValue),
                             Property(name: "kura:layerIndex", value: String(package.layerIndex)),
                             Property(name: "kura:path", value: package.path)]))
        }
        self.components = components
        vulnerabilities = report.findings.enumerated().map { index, finding in
            Vulnerability(
                bomRef: "vulnerability-\(index)", id: finding.advisoryID, description: finding.summary.isEmpty ? nil : finding.summary,
                ratings: [Rating(
                    score: finding.score, severity: finding.severity.cycloneDXName,
                    method: finding.vector.map { $0.hasPrefix("CVSS:4") ? "CVSSv4" : ($0.hasPrefix("CVSS:3.0") ? "CVSSv3" : "CVSSv31") },
                    vector: finding.vector)],
                affects: [Affects(ref: finding.purl)],
                recommendation: finding.fixedVersion.map { "Upgrade \(finding.packageName) to \($0)" },
                references: finding.aliases.isEmpty ? nil : finding.aliases.map { .init(id: $0, source: .init(name: $0.hasPrefix("CVE-") ? "NVD" : "OSV")) })
        }
    }
}

extension Severity {
    /// CycloneDX's severity names.
    var cycloneDXName: String {
        switch self {
        case .critical: "critical"
        case .high: "high"
        case .medium: "medium"
        case .low: "low"
        case .none: "none"
        case .unknown: "unknown"
        }
    }
}

/// SBOM timestamps: RFC 3339 in UTC, whole seconds.
enum SBOMDates {
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
