import Foundation

/// Sizes and times as the pages show them.
enum Display {
    /// 1536 → "1.5 KiB".
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: value < 10 ? "%.1f " : "%.0f ", value) + units[unit]
    }

    /// "2026-11-30 14:05:09 UTC". A format style, not an `ISO8601DateFormatter`: creating
    /// one of those (ICU) for each of a page's 50 rows was an eighth of the namespace page's time.
    static func time(_ date: Date) -> String {
        date.formatted(iso8601).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
    }

    private static let iso8601 = Date.ISO8601FormatStyle()

    /// "2026-11-30 14:00–15:00 UTC": an hour of usage metering.
    static func hour(_ start: Date) -> String {
        let text = time(start)
        let next = time(start.addingTimeInterval(3600))
        return String(text.prefix(16)) + "–" + String(next.dropFirst(11).prefix(5)) + " UTC"
    }

    /// "11-30": a day on a chart's axis.
    static func day(_ date: Date) -> String {
        String(date.formatted(iso8601).dropFirst(5).prefix(5))
    }

    /// A digest shortened for tables; the full one is in the link and the title.
    static func shortDigest(_ text: String) -> String {
        guard let colon = text.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":" + text[text.index(after: colon)...].prefix(12)
    }

    /// A URL path segment.
    static func pathEscape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))) ?? text
    }

    static func queryEscape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
