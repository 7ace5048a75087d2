import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error of the OAuth2 token endpoint (RFC 6749 5.2): `{"error":…,"error_description":…}`,
/// 400 unless said otherwise, never cached. The reason goes to the request's log line.
struct OAuthError: Error {
    var status: HTTPResponse.Status
    var code: String
    var description: String

    static func invalidRequest(_ description: String) -> OAuthError {
        OAuthError(status: .badRequest, code: "invalid_request", description: description)
    }

    var response: Response {
        RequestObservation.current?.update { $0.reason = "\(code): \(description)" }
        let body = (try? JSONEncoder.stable.encode(["error": code, "error_description": description])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store", .contentLength: String(body.count)],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
