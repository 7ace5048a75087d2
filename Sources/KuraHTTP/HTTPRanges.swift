/// Parsing of the two range headers the API uses.
enum HTTPRanges {
    /// A `Content-Range` of an upload chunk: `<start>-<end>`, inclusive (the spec's form);
    /// `bytes <start>-<end>/<total>` is accepted too. Returns the start and the length.
    static func uploadContentRange(_ value: String) -> (start: Int64, length: Int64)? {
        var text = Substring(value.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("bytes ") { text = text.dropFirst(6) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        if text.hasPrefix("bytes=") { text = text.dropFirst(6) }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let start = Int64(bounds[0]), let end = Int64(bounds[1]), start >= 0, end >= start else {
            return nil
        }
        // Both bounds come from the client: a range that spans more than Int64 can count
        // (`0-9223372036854775807`) is refused rather than overflowing.
        let (span, spanOverflow) = end.subtractingReportingOverflow(start)
        let (length, lengthOverflow) = span.addingReportingOverflow(1)
        guard !spanOverflow, !lengthOverflow else { return nil }
        return (start, length)
    }

    /// The outcome of a `Range` header on a GET of an object of `size` bytes.
    enum Request: Equatable {
        /// No range, or one we answer with the whole object (several ranges, other units).
        case whole
        case partial(Range<Int64>)
        case unsatisfiable
    }

    /// Parses `Range: bytes=<a>-<b>`, `bytes=<a>-` and `bytes=-<suffix>` (RFC 9110).
    static func request(_ value: String?, size: Int64) -> Request {
        guard let value else { return .whole }
        let text = value.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("bytes=") else { return .whole }
        let spec = text.dropFirst(6)
        if spec.contains(",") { return .whole }  // several ranges: the whole object is a valid answer
        let bounds = spec.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2 else { return .whole }
        let first = bounds[0].trimmingCharacters(in: .whitespaces)
        let second = bounds[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int64(second), suffix > 0 else { return .unsatisfiable }
            if size == 0 { return .unsatisfiable }
            return .partial(max(0, size - suffix)..<size)
        }
        guard let start = Int64(first), start >= 0 else { return .whole }
        guard start < size else { return .unsatisfiable }
        if second.isEmpty { return .partial(start..<size) }
        guard let end = Int64(second), end >= start else { return .whole }
        return .partial(start..<(min(end, size - 1) + 1))
    }
}

import Foundation
