import Foundation

/// The id of an upload session: a lowercase UUID. Validated so that it is safe in a key.
public struct UploadID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init() { value = UUID().uuidString.lowercased() }

    /// Parses an id received from a client; `nil` if it is not one Kura could have made.
    public init?(_ string: some StringProtocol) {
        guard string.utf8.count == 36, let uuid = UUID(uuidString: String(string)),
            uuid.uuidString.lowercased() == string.lowercased()
        else { return nil }
        value = uuid.uuidString.lowercased()
    }

    public var description: String { value }
}
