import Foundation
import NIOCore

/// Reads the message out of an OCI error body (`{"errors":[{"code":…,"message":…}]}`).
enum OCIErrorBody {
    static func message(_ body: ByteBuffer) -> String {
        struct Body: Decodable {
            struct Entry: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Entry]?
        }
        if let decoded = try? JSONDecoder().decode(Body.self, from: Data(body.readableBytesView)), let first = decoded.errors?.first {
            return [first.code, first.message].compactMap { $0 }.joined(separator: ": ")
        }
        return String(buffer: body).prefix(200).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
