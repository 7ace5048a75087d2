public import Foundation

/// One ecosystem's rule for ordering version strings. Schemes whose grammar is loose
/// (dpkg, rpm, apk, Maven) order any string; strict ones (semver, PEP 440) throw
/// ``VersionError`` for a string outside their grammar.
public protocol VersionScheme: Sendable {
    func compare(_ lhs: String, _ rhs: String) throws -> ComparisonResult
}

public struct VersionError: Error, Equatable, CustomStringConvertible {
    public let version: String
    public let scheme: String

    public var description: String { "'\(version)' is not a valid \(scheme) version" }
}

extension VersionScheme {
    /// `lhs < rhs` under this scheme.
    public func isLess(_ lhs: String, than rhs: String) throws -> Bool {
        try compare(lhs, rhs) == .orderedAscending
    }
}

extension Ecosystem {
    /// The ordering this ecosystem's advisories are written in.
    public var versionScheme: any VersionScheme {
        switch self {
        case .debian, .ubuntu: DpkgVersionScheme()
        case .alpine: ApkVersionScheme()
        case .redHat, .rocky, .alma: RpmVersionScheme()
        case .pypi: PEP440VersionScheme()
        case .npm: SemanticVersionScheme(flavour: .npm)
        case .go: SemanticVersionScheme(flavour: .go)
        case .maven: MavenVersionScheme()
        }
    }
}

/// Ordering of two integers as a `ComparisonResult`.
func order<T: Comparable>(_ lhs: T, _ rhs: T) -> ComparisonResult {
    lhs < rhs ? .orderedAscending : (lhs > rhs ? .orderedDescending : .orderedSame)
}

/// Compares decimal digit strings of any length without overflow: leading zeros are
/// ignored, a longer number is larger, equal lengths compare byte by byte.
func compareDigits(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> ComparisonResult {
    let a = lhs.drop { $0 == UInt8(ascii: "0") }
    let b = rhs.drop { $0 == UInt8(ascii: "0") }
    if a.count != b.count { return order(a.count, b.count) }
    for (x, y) in zip(a, b) where x != y { return order(x, y) }
    return .orderedSame
}

/// Byte-wise order, as C's `strcmp`.
func compareBytes(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> ComparisonResult {
    for (x, y) in zip(lhs, rhs) where x != y { return order(x, y) }
    return order(lhs.count, rhs.count)
}

extension UInt8 {
    var isASCIIDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isASCIILetter: Bool { (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) }
    var isASCIILower: Bool { self >= 0x61 && self <= 0x7A }
}
