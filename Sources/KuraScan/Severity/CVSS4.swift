import Foundation

/// A CVSS v4.0 vector and its score (CVSS-B for a base vector; threat and environmental
/// metrics, when present, are applied as the specification defines), computed with the
/// specification's macro-vector lookup and interpolation (section 8.2).
public struct CVSS4: Sendable, Equatable {
    public let score: Double

    public var severity: Severity { Severity(score: score) }

    public struct InvalidVector: Error, Equatable, CustomStringConvertible {
        public let vector: String
        public let reason: String
        public var description: String { "invalid CVSS v4 vector '\(vector)': \(reason)" }
    }

    private static let mandatory = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"]

    /// Severity levels of each metric value, in 0.1 steps from the most severe.
    private static let levels: [String: [String: Double]] = [
        "AV": ["N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3],
        "PR": ["N": 0.0, "L": 0.1, "H": 0.2],
        "UI": ["N": 0.0, "P": 0.1, "A": 0.2],
        "AC": ["L": 0.0, "H": 0.1],
        "AT": ["N": 0.0, "P": 0.1],
        "VC": ["H": 0.0, "L": 0.1, "N": 0.2],
        "VI": ["H": 0.0, "L": 0.1, "N": 0.2],
        "VA": ["H": 0.0, "L": 0.1, "N": 0.2],
        "SC": ["H": 0.1, "L": 0.2, "N": 0.3],
        "SI": ["S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3],
        "SA": ["S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3],
        "CR": ["H": 0.0, "M": 0.1, "L": 0.2],
        "IR": ["H": 0.0, "M": 0.1, "L": 0.2],
        "AR": ["H": 0.0, "M": 0.1, "L": 0.2],
    ]

    /// Values each optional metric may take ("X": not defined).
    private static let optionalValues: [String: Set<String>] = [
        "E": ["X", "A", "P", "U"], "CR": ["X", "H", "M", "L"], "IR": ["X", "H", "M", "L"], "AR": ["X", "H", "M", "L"],
        "MAV": ["X", "N", "A", "L", "P"], "MAC": ["X", "L", "H"], "MAT": ["X", "N", "P"], "MPR": ["X", "N", "L", "H"],
        "MUI": ["X", "N", "P", "A"], "MVC": ["X", "H", "L", "N"], "MVI": ["X", "H", "L", "N"], "MVA": ["X", "H", "L", "N"],
        "MSC": ["X", "H", "L", "N"], "MSI": ["X", "S", "H", "L", "N"], "MSA": ["X", "S", "H", "L", "N"],
        "S": ["X", "N", "P"], "AU": ["X", "N", "Y"], "R": ["X", "A", "U", "I"], "V": ["X", "D", "C"],
        "RE": ["X", "L", "M", "H"], "U": ["X", "Clear", "Green", "Amber", "Red"],
    ]

    private let metrics: [String: String]

    public init(vector: String) throws {
        let parsed: CVSSVector
        do {
            parsed = try CVSSVector(vector, versions: ["4.0"])
        } catch {
            throw InvalidVector(vector: vector, reason: error.reason)
        }
        for (metric, value) in parsed.metrics {
            let allowed = Self.mandatory.contains(metric) ? Set((Self.levels[metric] ?? [:]).keys) : Self.optionalValues[metric]
            guard let allowed else { throw InvalidVector(vector: vector, reason: "unknown metric \(metric)") }
            // SI and SA take "S" only in their modified forms.
            guard allowed.contains(value), !(["SI", "SA"].contains(metric) && value == "S") else {
                throw InvalidVector(vector: vector, reason: "\(metric):\(value) is not a valid value")
            }
        }
        let metrics = parsed.metrics
        for metric in Self.mandatory where metrics[metric] == nil {
            throw InvalidVector(vector: vector, reason: "base metric \(metric) is missing")
        }
        self.metrics = metrics
        score = Self.score(metrics)
    }

    /// The effective value of a metric: its modified form if given, the worst-case default
    /// for threat and requirement metrics left undefined.
    private static func effective(_ metric: String, _ metrics: [String: String]) -> String {
        let selected = metrics[metric] ?? "X"
        if metric == "E" && selected == "X" { return "A" }
        if ["CR", "IR", "AR"].contains(metric) && selected == "X" { return "H" }
        if let modified = metrics["M" + metric], modified != "X" { return modified }
        return selected
    }

    static func macroVector(_ m: (String) -> String) -> [Int] {
        let eq1: Int
        if m("AV") == "N" && m("PR") == "N" && m("UI") == "N" {
            eq1 = 0
        } else if (m("AV") == "N" || m("PR") == "N" || m("UI") == "N") && m("AV") != "P" {
            eq1 = 1
        } else {
            eq1 = 2
        }
        let eq2 = m("AC") == "L" && m("AT") == "N" ? 0 : 1
        let eq3: Int
        if m("VC") == "H" && m("VI") == "H" {
            eq3 = 0
        } else if m("VC") == "H" || m("VI") == "H" || m("VA") == "H" {
            eq3 = 1
        } else {
            eq3 = 2
        }
        let eq4: Int
        if m("MSI") == "S" || m("MSA") == "S" {
            eq4 = 0
        } else if m("SC") == "H" || m("SI") == "H" || m("SA") == "H" {
            eq4 = 1
        } else {
            eq4 = 2
        }
        let eq5 = ["A": 0, "P": 1, "U": 2][m("E")] ?? 0
        let eq6 = (m("CR") == "H" && m("VC") == "H") || (m("IR") == "H" && m("VI") == "H") || (m("AR") == "H" && m("VA") == "H") ? 0 : 1
        return [eq1, eq2, eq3, eq4, eq5, eq6]
    }

    private static func score(_ metrics: [String: String]) -> Double {
        let m: (String) -> String = { effective($0, metrics) }
        if ["VC", "VI", "VA", "SC", "SI", "SA"].allSatisfy({ m($0) == "N" }) { return 0 }
        let eq = macroVector(m)
        func key(_ levels: [Int]) -> String { levels.map(String.init).joined() }
        func lookup(_ levels: [Int]) -> Double? { CVSS4Tables.macroVectorScores[key(levels)] }
        func bumped(_ index: Int...) -> [Int] {
            var levels = eq
            for i in index { levels[i] += 1 }
            return levels
        }
        guard var value = lookup(eq) else { return 0 }

        let lowerEQ1 = lookup(bumped(0)), lowerEQ2 = lookup(bumped(1)), lowerEQ4 = lookup(bumped(3)), lowerEQ5 = lookup(bumped(4))
        let lowerEQ3EQ6: Double?
        switch (eq[2], eq[5]) {
        case (0, 0):
            let left = lookup(bumped(5)), right = lookup(bumped(2))
            lowerEQ3EQ6 = [left, right].compactMap { $0 }.max()
        case (1, 1), (0, 1): lowerEQ3EQ6 = lookup(bumped(2))
        case (1, 0): lowerEQ3EQ6 = lookup(bumped(5))
        default: lowerEQ3EQ6 = lookup(bumped(2, 5))
        }

        // The highest-severity vectors of this macro vector; distances are measured from the
        // first one the vector does not exceed in any metric.
        var maxima: [String] = []
        for a in CVSS4Tables.eq1Maxima["\(eq[0])"] ?? [] {
            for b in CVSS4Tables.eq2Maxima["\(eq[1])"] ?? [] {
                for c in CVSS4Tables.eq3eq6Maxima["\(eq[2])"]?["\(eq[5])"] ?? [] {
                    for d in CVSS4Tables.eq4Maxima["\(eq[3])"] ?? [] {
                        for e in CVSS4Tables.eq5Maxima["\(eq[4])"] ?? [] { maxima.append(a + b + c + d + e) }
                    }
                }
            }
        }
        var distance: [String: Double] = [:]
        for maximum in maxima {
            var values: [String: String] = [:]
            for pair in maximum.split(separator: "/") {
                let parts = pair.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
            distance = [:]
            for (metric, table) in levels {
                distance[metric] = (table[m(metric)] ?? 0) - (table[values[metric] ?? ""] ?? 0)
            }
            if distance.values.allSatisfy({ $0 >= 0 }) { break }
        }
        let d = { (metrics: [String]) in metrics.reduce(0.0) { $0 + (distance[$1] ?? 0) } }
        let step = 0.1
        var parts: [Double] = []
        func add(_ lower: Double?, _ current: Double, _ depth: Double?) {
            guard let lower, case let available = value - lower, available >= 0, let depth else { return }
            parts.append(available * (current / (depth * step)))
        }
        add(lowerEQ1, d(["AV", "PR", "UI"]), CVSS4Tables.eq1Depth[eq[0]])
        add(lowerEQ2, d(["AC", "AT"]), CVSS4Tables.eq2Depth[eq[1]])
        add(lowerEQ3EQ6, d(["VC", "VI", "VA", "CR", "IR", "AR"]), CVSS4Tables.eq3eq6Depth[eq[2]]?[eq[5]])
        add(lowerEQ4, d(["SC", "SI", "SA"]), CVSS4Tables.eq4Depth[eq[3]])
        // EQ5 has no severity distance within a level; it still counts as a lower neighbour.
        if let lowerEQ5, value - lowerEQ5 >= 0 { parts.append(0) }
        if !parts.isEmpty { value -= parts.reduce(0, +) / Double(parts.count) }
        value = min(10, max(0, value))
        // Round half up, with a small epsilon against binary fractions (8.6 - 7.15).
        return ((value + 0.000_001) * 10).rounded(.toNearestOrAwayFromZero) / 10
    }
}
