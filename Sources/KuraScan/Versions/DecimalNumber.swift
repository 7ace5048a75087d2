/// A non-negative integer of any length, as version strings carry them ("20240101123456",
/// Go pseudo-version timestamps): compared without overflow.
struct DecimalNumber: Comparable, Hashable, Sendable {
    /// Digits without leading zeros; zero is empty.
    let digits: [UInt8]

    init(_ text: some Collection<UInt8>) {
        digits = Array(text.drop { $0 == UInt8(ascii: "0") })
    }

    static let zero = DecimalNumber([UInt8]())

    var isZero: Bool { digits.isEmpty }

    static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        compareDigits(lhs.digits, rhs.digits) == .orderedAscending
    }
}
