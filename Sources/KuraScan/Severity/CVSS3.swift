import Foundation

/// A CVSS v3.0/v3.1 base vector (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`) and its base
/// score, computed as the specification's section 7.1 gives it (v3.1's `Roundup` avoids the
/// floating-point error of v3.0's plain ceiling).
public struct CVSS3: Sendable, Equatable {
    public let version: String
    public let baseScore: Double

    public var severity: Severity { Severity(score: baseScore) }

    public struct InvalidVector: Error, Equatable, CustomStringConvertible {
        public let vector: String
        public let reason: String
        public var description: String { "invalid CVSS v3 vector '\(vector)': \(reason)" }
    }

    private static let weights: [String: [String: Double]] = [
        "AV": ["N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2],
        "AC": ["L": 0.77, "H": 0.44],
        "PR": ["N": 0.85, "L": 0.62, "H": 0.27],
        "UI": ["N": 0.85, "R": 0.62],
        "S": ["U": 0, "C": 1],
        "C": ["H": 0.56, "L": 0.22, "N": 0],
        "I": ["H": 0.56, "L": 0.22, "N": 0],
        "A": ["H": 0.56, "L": 0.22, "N": 0],
    ]

    public init(vector: String) throws {
        let parsed: CVSSVector
        do {
            parsed = try CVSSVector(vector, versions: ["3.0", "3.1"])
        } catch {
            throw InvalidVector(vector: vector, reason: error.reason)
        }
        version = parsed.version
        let metrics = parsed.metrics
        var value: [String: Double] = [:]
        for (metric, table) in Self.weights {
            guard let given = metrics[metric] else { throw InvalidVector(vector: vector, reason: "base metric \(metric) is missing") }
            guard let weight = table[given] else { throw InvalidVector(vector: vector, reason: "\(metric):\(given) is not a valid value") }
            value[metric] = weight
        }
        let scopeChanged = metrics["S"] == "C"
        var privileges = value["PR"]!
        if scopeChanged {
            privileges = ["N": 0.85, "L": 0.68, "H": 0.5][metrics["PR"]!]!
        }
        let impactSubScore = 1 - (1 - value["C"]!) * (1 - value["I"]!) * (1 - value["A"]!)
        let impact = scopeChanged
            ? 7.52 * (impactSubScore - 0.029) - 3.25 * pow(impactSubScore - 0.02, 15)
            : 6.42 * impactSubScore
        let exploitability = 8.22 * value["AV"]! * value["AC"]! * privileges * value["UI"]!
        // v3.0 rounds up with a plain ceiling; v3.1 with Appendix A's integer form.
        let isVersion30 = parsed.version == "3.0"
        let roundUp = { (value: Double) in isVersion30 ? ceil(value * 10) / 10 : Self.roundUp(value) }
        if impact <= 0 {
            baseScore = 0
        } else if scopeChanged {
            baseScore = roundUp(min(1.08 * (impact + exploitability), 10))
        } else {
            baseScore = roundUp(min(impact + exploitability, 10))
        }
    }

    /// CVSS v3.1 Appendix A: the smallest number with one decimal that is equal to or
    /// higher than the input, computed on integers so 4.000000001 does not become 4.1.
    static func roundUp(_ value: Double) -> Double {
        let scaled = Int((value * 100_000).rounded())
        if scaled % 10_000 == 0 { return Double(scaled) / 100_000 }
        return Double(scaled / 10_000 + 1) / 10
    }
}
