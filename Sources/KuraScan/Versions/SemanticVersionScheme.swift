public import Foundation

/// Semantic Versioning 2.0.0 order, as npm and Go modules use it: major.minor.patch
/// numerically, a pre-release sorts before its release, pre-release identifiers compare
/// numerically when numeric (and numeric before alphanumeric), a shorter identifier list
/// first; build metadata (`+…`, Go's `+incompatible`) is ignored. Go pseudo-versions
/// (`v0.0.0-20191109021931-daa7c04131f5`, `v1.2.4-0.20191109021931-daa7c04131f5`) are
/// pre-releases, so this order places them where the go command does.
public struct SemanticVersionScheme: VersionScheme {
    public enum Flavour: String, Sendable {
        /// npm: an optional leading `v` or `=`, all three numbers required.
        case npm
        /// Go: an optional leading `v`; `v1` and `v1.2` stand for `v1.0.0` and `v1.2.0`.
        case go
    }

    public let flavour: Flavour

    public init(flavour: Flavour) {
        self.flavour = flavour
    }

    public func compare(_ lhs: String, _ rhs: String) throws -> ComparisonResult {
        let a = try SemanticVersion(lhs, flavour: flavour), b = try SemanticVersion(rhs, flavour: flavour)
        return a.compare(to: b)
    }
}

struct SemanticVersion {
    enum Identifier {
        case number(ArraySlice<UInt8>)
        case text(ArraySlice<UInt8>)
    }

    let core: [ArraySlice<UInt8>]
    let preRelease: [Identifier]

    init(_ text: String, flavour: SemanticVersionScheme.Flavour) throws {
        let invalid = VersionError(version: text, scheme: flavour == .go ? "Go module" : "semver")
        var bytes = Array(text.utf8)[...].trimmingSpaces()
        if flavour == .npm, bytes.first == UInt8(ascii: "=") { bytes = bytes.dropFirst() }
        if bytes.first == UInt8(ascii: "v") || bytes.first == UInt8(ascii: "V") { bytes = bytes.dropFirst() }
        if let plus = bytes.firstIndex(of: UInt8(ascii: "+")) {
            let build = bytes[(plus + 1)...]
            guard Self.isIdentifierList(build) else { throw invalid }
            bytes = bytes[..<plus]
        }
        var preReleaseBytes: ArraySlice<UInt8>?
        if let dash = bytes.firstIndex(of: UInt8(ascii: "-")) {
            preReleaseBytes = bytes[(dash + 1)...]
            bytes = bytes[..<dash]
        }
        var core = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let shortAllowed = flavour == .go && preReleaseBytes == nil
        guard core.count == 3 || (shortAllowed && (1...2).contains(core.count)) else { throw invalid }
        for number in core {
            // No leading zeros in a numeric part (semver §2).
            guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit),
                  number.count == 1 || number.first != UInt8(ascii: "0") else { throw invalid }
        }
        while core.count < 3 { core.append([UInt8(ascii: "0")][...]) }
        self.core = core
        if let preReleaseBytes {
            guard Self.isIdentifierList(preReleaseBytes) else { throw invalid }
            preRelease = try preReleaseBytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map {
                if $0.allSatisfy(\.isASCIIDigit) {
                    guard $0.count == 1 || $0.first != UInt8(ascii: "0") else { throw invalid }
                    return .number($0)
                }
                return .text($0)
            }
        } else {
            preRelease = []
        }
    }

    private static func isIdentifierList(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { identifier in
            !identifier.isEmpty && identifier.allSatisfy { $0.isASCIIDigit || $0.isASCIILetter || $0 == UInt8(ascii: "-") }
        }
    }

    func compare(to other: SemanticVersion) -> ComparisonResult {
        for (a, b) in zip(core, other.core) {
            let parts = compareDigits(a, b)
            if parts != .orderedSame { return parts }
        }
        // A version without pre-release sorts after every pre-release of it.
        switch (preRelease.isEmpty, other.preRelease.isEmpty) {
        case (true, true): return .orderedSame
        case (true, false): return .orderedDescending
        case (false, true): return .orderedAscending
        case (false, false): break
        }
        for (a, b) in zip(preRelease, other.preRelease) {
            let identifiers: ComparisonResult
            switch (a, b) {
            case (.number(let x), .number(let y)): identifiers = compareDigits(x, y)
            case (.number, .text): identifiers = .orderedAscending
            case (.text, .number): identifiers = .orderedDescending
            case (.text(let x), .text(let y)): identifiers = compareBytes(x, y)
            }
            if identifiers != .orderedSame { return identifiers }
        }
        return order(preRelease.count, other.preRelease.count)
    }
}
