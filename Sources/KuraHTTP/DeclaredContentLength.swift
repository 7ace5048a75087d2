import HTTPTypes

extension HTTPFields {
    /// The request's declared `Content-Length`, when it is a non-negative decimal that fits in
    /// Int64; `nil` without one or for anything else (the routes refuse those: see
    /// `RegistryAPI.contentLength`). The one reading of the header shared by the handlers,
    /// the `Expect` handling and the request observer.
    var declaredContentLength: Int64? {
        self[.contentLength].flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }
}
