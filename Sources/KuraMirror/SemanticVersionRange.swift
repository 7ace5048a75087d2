/// A range of semantic versions, as npm and Cargo write them: comparators separated by
/// spaces must all hold (`>=1.2.0 <2.0.0`); alternatives are separated by `||`.
/// Comparators: `=`, `>`, `>=`, `<`, `<=`, caret `^1.2` (same leftmost non-zero number),
/// tilde `~1.2.3` (same minor), and a bare or partial version (`1.2` = `>=1.2.0 <1.3.0`).
/// Pre-release versions match only when some comparator of the alternative names a
/// pre-release of the same major.minor.patch (npm's rule), so `^1.2` does not pull `1.3.0-rc.1`.
public struct SemanticVersionRange: Sendable, CustomStringConvertible {
    struct Comparator: Sendable {
        enum Operation: Sendable { case less, lessOrEqual, greater, greaterOrEqual, equal }
        var operation: Operation
        var version: SemanticVersion

        func matches(_ candidate: SemanticVersion) -> Bool {
            switch operation {
            case .less: candidate < version
            case .lessOrEqual: candidate <= version
            case .greater: candidate > version
            case .greaterOrEqual: candidate >= version
            case .equal: candidate == version
            }
        }
    }

    let alternatives: [[Comparator]]
    public let description: String

    public init(parsing text: String) throws(MirrorError) {
        description = text
        var alternatives: [[Comparator]] = []
        for alternative in text.components(separatedBy: "||") {
            var comparators: [Comparator] = []
            for term in alternative.split(separator: " ") where !term.isEmpty {
                comparators += try Self.comparators(term, in: text)
            }
            guard !comparators.isEmpty else { throw .invalidArgument("empty alternative in version range \(text.debugDescription)") }
            alternatives.append(comparators)
        }
        self.alternatives = alternatives
    }

    /// Whether a version lies in the range.
    public func contains(_ version: SemanticVersion) -> Bool {
        alternatives.contains { comparators in
            guard comparators.allSatisfy({ $0.matches(version) }) else { return false }
            if version.prerelease.isEmpty { return true }
            return comparators.contains { comparator in
                !comparator.version.prerelease.isEmpty
                    && (comparator.version.major, comparator.version.minor, comparator.version.patch)
                        == (version.major, version.minor, version.patch)
            }
        }
    }

    /// Whether a tag is a version in the range (tags that are not versions never are).
    public func matches(tag: String) -> Bool {
        SemanticVersion(tag).map(contains) ?? false
    }

    private static func comparators(_ term: Substring, in text: String) throws(MirrorError) -> [Comparator] {
        let operators: [(String, Comparator.Operation?)] = [
            (">=", .greaterOrEqual), ("<=", .lessOrEqual), (">", .greater), ("<", .less), ("=", .equal), ("^", nil), ("~", nil),
        ]
        var prefix = ""
        var rest = term
        for (symbol, _) in operators where term.hasPrefix(symbol) {
            prefix = symbol
            rest = term.dropFirst(symbol.count)
            break
        }
        // `1.x`, `1.2.*`: wildcards mean the parts before them.
        var trimmed = rest
        while trimmed.hasSuffix(".x") || trimmed.hasSuffix(".X") || trimmed.hasSuffix(".*") { trimmed = trimmed.dropLast(2) }
        guard let (version, parts) = SemanticVersion.parse(trimmed) else {
            throw .invalidArgument("not a version in range \(text.debugDescription): \(term.debugDescription)")
        }
        func next(_ level: Int) -> SemanticVersion {
            switch level {
            case 1: SemanticVersion(major: version.major + 1, minor: 0, patch: 0, prerelease: ["0"])
            case 2: SemanticVersion(major: version.major, minor: version.minor + 1, patch: 0, prerelease: ["0"])
            default: SemanticVersion(major: version.major, minor: version.minor, patch: version.patch + 1, prerelease: ["0"])
            }
        }
        // Upper bounds use `-0`, the lowest version above, so `<2.0.0-0` excludes 2.0.0's pre-releases.
        switch prefix {
        case "^":
            let level = version.major > 0 || parts == 1 ? 1 : (version.minor > 0 || parts == 2 ? 2 : 3)
            return [Comparator(operation: .greaterOrEqual, version: version), Comparator(operation: .less, version: next(level))]
        case "~":
            return [Comparator(operation: .greaterOrEqual, version: version), Comparator(operation: .less, version: next(parts == 1 ? 1 : 2))]
        case "", "=":
            if parts == 3 { return [Comparator(operation: .equal, version: version)] }
            return [Comparator(operation: .greaterOrEqual, version: version), Comparator(operation: .less, version: next(parts))]
        default:
            let operation = operators.first { $0.0 == prefix }!.1!
            // A partial upper bound covers the whole partial range: `<=1.2` is `<1.3.0-0`.
            if parts < 3, operation == .lessOrEqual { return [Comparator(operation: .less, version: next(parts))] }
            if parts < 3, operation == .greater { return [Comparator(operation: .greaterOrEqual, version: next(parts))] }
            return [Comparator(operation: operation, version: version)]
        }
    }
}
