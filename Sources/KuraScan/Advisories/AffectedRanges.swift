import Foundation

/// Which versions of one package an advisory affects: OSV `ranges` of type ECOSYSTEM or
/// SEMVER (GIT ranges name commits, which images do not carry) and the explicit `versions`
/// list, evaluated as the OSV schema's reference algorithm does.
struct AffectedRanges: Codable, Sendable, Equatable {
    typealias Event = OSVDocument.Event

    /// Each range's events, in the order the advisory gives them.
    var ranges: [[Event]]
    var versions: [String]

    typealias Verdict = AffectedVerdict

    /// Evaluates `version` under `scheme`. A range whose versions the scheme cannot parse is
    /// skipped rather than guessed at.
    func verdict(for version: String, scheme: any VersionScheme) -> Verdict {
        if versions.contains(version) {
            return Verdict(isAffected: true, fixedVersion: nil)
        }
        for events in ranges {
            guard let verdict = try? Self.evaluate(events, version: version, scheme: scheme) else { continue }
            if verdict.isAffected { return verdict }
        }
        return Verdict(isAffected: false, fixedVersion: nil)
    }

    private static func evaluate(_ events: [Event], version: String, scheme: any VersionScheme) throws -> Verdict {
        let sorted = try sortedEvents(events, scheme: scheme)
        var affected = false
        for event in sorted {
            if let introduced = event.introduced {
                if introduced == "0" {
                    affected = true
                } else if try scheme.compare(version, introduced) != .orderedAscending {
                    affected = true
                }
            } else if let fixed = event.fixed {
                if try scheme.compare(version, fixed) != .orderedAscending { affected = false }
            } else if let lastAffected = event.lastAffected {
                if try scheme.compare(version, lastAffected) == .orderedDescending { affected = false }
            } else if let limit = event.limit {
                if limit != "*", try scheme.compare(version, limit) != .orderedAscending { affected = false }
            }
        }
        guard affected else { return Verdict(isAffected: false, fixedVersion: nil) }
        let fix = try sorted.compactMap(\.fixed).first { try scheme.compare($0, version) == .orderedDescending }
        return Verdict(isAffected: true, fixedVersion: fix)
    }

    /// Events in version order, `introduced: "0"` first; at equal versions the order given.
    private static func sortedEvents(_ events: [Event], scheme: any VersionScheme) throws -> [Event] {
        func key(_ event: Event) -> String? {
            event.introduced ?? event.fixed ?? event.lastAffected ?? event.limit
        }
        var indexed = Array(events.enumerated())
        var failure: (any Error)?
        indexed.sort { a, b in
            guard let x = key(a.element), let y = key(b.element) else { return a.offset < b.offset }
            if x == "0" && a.element.introduced != nil { return !(y == "0" && b.element.introduced != nil) || a.offset < b.offset }
            if y == "0" && b.element.introduced != nil { return false }
            do {
                let result = try scheme.compare(x, y)
                return result == .orderedSame ? a.offset < b.offset : result == .orderedAscending
            } catch {
                failure = error
                return a.offset < b.offset
            }
        }
        if let failure { throw failure }
        return indexed.map(\.element)
    }
}

/// Whether one installed version is affected, and the fix to move to.
public struct AffectedVerdict: Equatable, Sendable {
    public let isAffected: Bool
    /// The lowest `fixed` version above the installed one in the range that matched.
    public let fixedVersion: String?

    public init(isAffected: Bool, fixedVersion: String?) {
        self.isAffected = isAffected
        self.fixedVersion = fixedVersion
    }
}
