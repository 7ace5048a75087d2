/// Splits Debian control-style text (dpkg's status database, apk's installed database)
/// into stanzas of `Key: value` fields separated by blank lines. Continuation lines
/// (starting with a space) belong to the previous field and are dropped: no detector needs them.
enum ControlStanzas {
    static func parse(_ text: String, separator: Character = ":") -> [[String: String]] {
        var stanzas: [[String: String]] = []
        var current: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if !current.isEmpty { stanzas.append(current) }
                current = [:]
                continue
            }
            if line.first == " " || line.first == "\t" { continue }
            guard let colon = line.firstIndex(of: separator) else { continue }
            let key = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            current[key] = String(value.hasSuffix("\r") ? value.dropLast() : value)
        }
        if !current.isEmpty { stanzas.append(current) }
        return stanzas
    }
}
