public import Foundation

/// Debian's version order (deb-version(7), dpkg's `verrevcmp`): `[epoch:]upstream[-revision]`.
/// Epoch compares numerically; upstream and revision alternate non-digit runs (letters
/// before non-letters, `~` before everything, even the end of the string) and numeric runs.
public struct DpkgVersionScheme: VersionScheme {
    public init() {}

    public func compare(_ lhs: String, _ rhs: String) -> ComparisonResult {
        EpochVersionRelease.compare(lhs, rhs, parts: Self.verrevcmp)
    }

    /// The weight of one byte in a non-digit run; the end of the string weighs 0.
    private static func weight(_ byte: UInt8?) -> Int {
        guard let byte else { return 0 }
        if byte.isASCIIDigit { return 0 }
        if byte.isASCIILetter { return Int(byte) }
        if byte == UInt8(ascii: "~") { return -1 }
        return Int(byte) + 256
    }

    static func verrevcmp(_ lhs: ArraySlice<UInt8>, _ rhs: ArraySlice<UInt8>) -> ComparisonResult {
        var a = lhs[...], b = rhs[...]
        while !a.isEmpty || !b.isEmpty {
            // Non-digit run, byte by byte.
            while (a.first.map { !$0.isASCIIDigit } ?? false) || (b.first.map { !$0.isASCIIDigit } ?? false) {
                let wa = weight(a.first), wb = weight(b.first)
                if wa != wb { return order(wa, wb) }
                a = a.dropFirst()
                b = b.dropFirst()
            }
            // Numeric run.
            let digitsA = a.prefix { $0.isASCIIDigit }, digitsB = b.prefix { $0.isASCIIDigit }
            let numbers = compareDigits(digitsA, digitsB)
            if numbers != .orderedSame { return numbers }
            a = a.dropFirst(digitsA.count)
            b = b.dropFirst(digitsB.count)
        }
        return .orderedSame
    }
}
