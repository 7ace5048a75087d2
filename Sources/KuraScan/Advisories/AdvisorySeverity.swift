/// The severity an advisory gives one affected package: the base score of its CVSS v3
/// vector when it has one (the package's own before the advisory's), else of its CVSS v4
/// vector, else a label the
/// database gives (Ubuntu's priority, GitHub's `database_specific.severity`, …).
struct AdvisorySeverity: Equatable {
    let severity: Severity
    let score: Double?
    let vector: String?

    static let unknown = AdvisorySeverity(severity: .unknown, score: nil, vector: nil)

    init(severity: Severity, score: Double?, vector: String?) {
        self.severity = severity
        self.score = score
        self.vector = vector
    }

    init(document: OSVDocument, affected: OSVDocument.Affected) {
        let entries = (affected.severity ?? []) + (document.severity ?? [])
        for entry in entries where entry.type == "CVSS_V3" {
            if let cvss = try? CVSS3(vector: entry.score) {
                self.init(severity: cvss.severity, score: cvss.baseScore, vector: entry.score)
                return
            }
        }
        for entry in entries where entry.type == "CVSS_V4" {
            if let cvss = try? CVSS4(vector: entry.score) {
                self.init(severity: cvss.severity, score: cvss.score, vector: entry.score)
                return
            }
        }
        let labels = entries.filter { !$0.type.hasPrefix("CVSS") }.map(\.score)
            + [affected.ecosystemSpecific?.severity, affected.databaseSpecific?.severity, document.databaseSpecific?.severity].compactMap { $0 }
        for label in labels {
            let severity = Severity(label: label)
            if severity != .unknown {
                self.init(severity: severity, score: nil, vector: nil)
                return
            }
        }
        self = .unknown
    }
}
