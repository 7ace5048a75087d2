import Foundation

/// The part of an OSV record (https://ossf.github.io/osv-schema/) the scanner uses.
/// Unknown fields are ignored; the required ones (`id`, `modified`) must be present.
struct OSVDocument: Decodable {
    struct Package: Decodable {
        let ecosystem: String
        let name: String
        let purl: String?
    }

    struct Event: Codable, Equatable, Sendable {
        var introduced: String?
        var fixed: String?
        var lastAffected: String?
        var limit: String?

        enum CodingKeys: String, CodingKey {
            case introduced, fixed, limit
            case lastAffected = "last_affected"
        }
    }

    struct Range: Decodable {
        let type: String
        let events: [Event]
    }

    struct SeverityEntry: Decodable {
        let type: String
        let score: String
    }

    /// `database_specific` / `ecosystem_specific` objects: only their `severity` is read,
    /// and only when it is a string.
    struct SpecificFields: Decodable {
        let severity: String?

        enum CodingKeys: String, CodingKey { case severity }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            severity = try? container.decodeIfPresent(String.self, forKey: .severity)
        }
    }

    struct Affected: Decodable {
        let package: Package?
        let severity: [SeverityEntry]?
        let ranges: [Range]?
        let versions: [String]?
        let ecosystemSpecific: SpecificFields?
        let databaseSpecific: SpecificFields?

        enum CodingKeys: String, CodingKey {
            case package, severity, ranges, versions
            case ecosystemSpecific = "ecosystem_specific"
            case databaseSpecific = "database_specific"
        }
    }

    let id: String
    let modified: String
    let published: String?
    let withdrawn: String?
    let aliases: [String]?
    let upstream: [String]?
    let summary: String?
    let details: String?
    let severity: [SeverityEntry]?
    let affected: [Affected]?
    let databaseSpecific: SpecificFields?

    enum CodingKeys: String, CodingKey {
        case id, modified, published, withdrawn, aliases, upstream, summary, details, severity, affected
        case databaseSpecific = "database_specific"
    }
}
