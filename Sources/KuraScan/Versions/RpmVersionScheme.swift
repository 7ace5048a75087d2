public import Foundation

/// RPM's version order: `[epoch:]version[-release]`, epoch numerically (absent = 0), then
/// `version` and `release` each with `rpmvercmp` (rpm 4.15 and later, with `~` sorting
/// before everything and `^` after the end of a version but before any further segment).
public struct RpmVersionScheme: VersionScheme {
    public init() {}

    public func compare(_ lhs: String, _ rhs: String) -> ComparisonResult {
        EpochVersionRelease.compare(lhs, rhs, parts: Self.rpmvercmp)
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        !byte.isASCIIDigit && !byte.isASCIILetter && byte != UInt8(ascii: "~") && byte != UInt8(ascii: "^")
    }

    static func rpmvercmp(_ lhs: ArraySlice<UInt8>, _ rhs: ArraySlice<UInt8>) -> ComparisonResult {
        if lhs == rhs { return .orderedSame }
        let tilde = UInt8(ascii: "~"), caret = UInt8(ascii: "^")
        var one = lhs, two = rhs
        while !one.isEmpty || !two.isEmpty {
            one = one.drop(while: isSeparator)
            two = two.drop(while: isSeparator)

            // A tilde sorts before anything, even the end of the version.
            if one.first == tilde || two.first == tilde {
                if one.first != tilde { return .orderedDescending }
                if two.first != tilde { return .orderedAscending }
                one = one.dropFirst()
                two = two.dropFirst()
                continue
            }
            // A caret sorts after the end of the version but before any other segment.
            if one.first == caret || two.first == caret {
                if one.isEmpty { return .orderedAscending }
                if two.isEmpty { return .orderedDescending }
                if one.first != caret { return .orderedDescending }
                if two.first != caret { return .orderedAscending }
                one = one.dropFirst()
                two = two.dropFirst()
                continue
            }
            guard let first = one.first, !two.isEmpty else { break }

            let numeric = first.isASCIIDigit
            let belongs: (UInt8) -> Bool = numeric ? { $0.isASCIIDigit } : { $0.isASCIILetter }
            let segmentOne = one.prefix(while: belongs), segmentTwo = two.prefix(while: belongs)
            // Segments of different kinds: the numeric one is newer.
            if segmentTwo.isEmpty { return numeric ? .orderedDescending : .orderedAscending }
            let segments = numeric ? compareDigits(segmentOne, segmentTwo) : compareBytes(segmentOne, segmentTwo)
            if segments != .orderedSame { return segments }
            one = one.dropFirst(segmentOne.count)
            two = two.dropFirst(segmentTwo.count)
        }
        if one.isEmpty && two.isEmpty { return .orderedSame }
        return one.isEmpty ? .orderedAscending : .orderedDescending
    }
}
