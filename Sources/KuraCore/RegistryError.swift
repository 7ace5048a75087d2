/// An error that carries an OCI error code, a human-readable message and optional detail.
///
/// Every layer throws this for conditions a client should see; the HTTP layer turns it
/// into the spec's JSON body `{"errors":[{"code","message","detail"}]}`.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: OCIErrorCode
    public var message: String
    public var detail: String?

    public init(_ code: OCIErrorCode, _ message: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.detail = detail
    }

    public var description: String {
        if let detail { return "\(code.rawValue): \(message) (\(detail))" }
        return "\(code.rawValue): \(message)"
    }
}
