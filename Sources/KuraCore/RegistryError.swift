/// An error that carries an OCI error code, a human-readable message and optional detail.
///
/// Every layer throws this for conditions a client should see; the HTTP layer turns it
/// into the spec's JSON body `{"errors":[{"code","message","detail"}]}`.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: OCIErrorCode
    public var message: String
    public var detail: String?
    /// A status other than the code's usual one, where the spec asks for it (a manifest over
    /// the size limit is `MANIFEST_INVALID` with 413).
    public var statusOverride: Int?

    public init(_ code: OCIErrorCode, _ message: String? = nil, detail: String? = nil, status: Int? = nil) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.detail = detail
        self.statusOverride = status
    }

    /// The HTTP status to answer with.
    public var httpStatus: Int { statusOverride ?? code.httpStatus }

    public var description: String {
        if let detail { return "\(code.rawValue): \(message) (\(detail))" }
        return "\(code.rawValue): \(message)"
    }
}
