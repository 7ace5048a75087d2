import Foundation
import Hummingbird
import KuraCore
import KuraStorage
import Logging
import NIOCore

extension RegistryError {
    /// The reason in the request's log line.
    var logReason: String { "\(code.rawValue): \(message)" + (detail.map { " (\($0))" } ?? "") }
}

/// Turns errors into the spec's JSON error bodies: `{"errors":[{"code","message","detail"}]}`.
enum ErrorResponse {
    static func make(_ error: any Error, isHead: Bool, logger: Logger) -> Response {
        let registryError: RegistryError
        switch error {
        case let error as RegistryError:
            registryError = error
        case let error as StorageError:
            switch error {
            case .unavailable:
                logger.error("storage unavailable", metadata: ["error": "\(error)"])
                registryError = RegistryError(.unavailable, "storage is unavailable, retry later")
            case .io where error.isOutOfSpace:
                logger.critical("storage is full", metadata: ["error": "\(error)"])
                registryError = RegistryError(
                    .unavailable, "the registry's storage is full; nothing was stored, retry once space is freed", status: 507)
            case .corruptState:
                logger.error("corrupt storage state", metadata: ["error": "\(error)"])
                registryError = RegistryError(.internalError, "stored state is corrupt")
            default:
                logger.error("storage fault", metadata: ["error": "\(error)"])
                registryError = RegistryError(.internalError, "storage fault")
            }
        case let error as HTTPError where error.status == .contentTooLarge:
            registryError = RegistryError(.sizeInvalid, "request body too large", status: 413)
        default:
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            registryError = RegistryError(.internalError)
        }
        return response(for: registryError, isHead: isHead)
    }

    static func response(for error: RegistryError, isHead: Bool, headers extra: HTTPFields = [:]) -> Response {
        RequestObservation.current?.update { $0.reason = error.logReason }
        var headers = extra
        headers[.contentType] = "application/json"
        let status = HTTPResponse.Status(code: error.httpStatus)
        if isHead {
            headers[.contentLength] = "0"
            return Response(status: status, headers: headers)
        }
        let body = Self.body(for: error)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func body(for error: RegistryError) -> [UInt8] {
        struct Item: Encodable {
            var code: String
            var message: String
            var detail: String?
        }
        struct Body: Encodable { var errors: [Item] }
        let encoder = JSONEncoder.stable
        let body = Body(errors: [Item(code: error.code.rawValue, message: error.message, detail: error.detail)])
        return Array((try? encoder.encode(body)) ?? Data("{\"errors\":[]}".utf8))
    }
}
