/// A byte count as people write it, on the command line and in the console's forms:
/// `4096`, `512 KiB`, `16MiB`, `1.5 GiB`, `10GB`, `1G`. KiB, MiB, GiB, TiB and the one-letter
/// K, M, G, T are powers of 1024; KB, MB, GB, TB powers of 1000; case does not matter.
public enum ByteCount {
    static let units: [(suffix: String, multiplier: Double)] = [
        ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("tib", 1_099_511_627_776),
        ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12),
        ("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("t", 1_099_511_627_776), ("b", 1),
    ]

    /// The count, or `nil` for text that is not one (negative, out of range, unknown unit).
    public static func parse(_ text: String) -> Int64? {
        let compact = String(text.filter { !$0.isWhitespace }.lowercased())
        var number = Substring(compact), multiplier = 1.0
        if let unit = units.first(where: { compact.hasSuffix($0.suffix) }) {
            number = compact.dropLast(unit.suffix.count)
            multiplier = unit.multiplier
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(number) else { return nil }
        let bytes = (value * multiplier).rounded()
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }
}
