import Foundation

extension JSONEncoder {
    /// The encoder of JSON answers: keys sorted, so the same answer has the same bytes on
    /// every call and every platform; dates in ISO 8601.
    static var stable: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
