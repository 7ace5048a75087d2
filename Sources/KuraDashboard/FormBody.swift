import Foundation
import NIOCore

/// An `application/x-www-form-urlencoded` body: the first value of each field.
struct FormBody: Sendable {
    private var fields: [String: String] = [:]

    init() {}

    init(bytes: ByteBuffer) {
        for pair in String(buffer: bytes).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field without surrounding spaces; `nil` when absent or blank (an optional input left empty).
    func filled(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// `+` is a space; `%XX` a byte; bytes that are not UTF-8 refuse the field.
    static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
