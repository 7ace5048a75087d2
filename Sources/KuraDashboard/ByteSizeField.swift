import KuraAccess

/// A size typed into a form: `1073741824`, `512 MiB`, `10GB`, `1.5 TiB` (KiB, MiB, GiB,
/// TiB are powers of 1024; KB, MB, GB, TB of 1000).
enum ByteSizeField {
    static let units: [String: Double] = [
        "": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
        "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776,
    ]

    static func parse(_ text: String) throws -> Int64 {
        let trimmed = text.filter { !$0.isWhitespace }.lowercased()
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number), let unit = units[String(trimmed.dropFirst(number.count))] else {
            throw AdminError.invalid("a size is a number with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), not \(text.debugDescription)")
        }
        let bytes = (value * unit).rounded()
        guard bytes >= 0, bytes < 9e18 else { throw AdminError.invalid("the size \(text.debugDescription) is out of range") }
        return Int64(bytes)
    }
}
