import Hummingbird
import KuraCore

/// A request no route takes (an unknown path, or a method such as `OPTIONS` or `TRACE`
/// that Kura does not serve) is answered with an OCI error body rather than an empty one.
struct UnroutedRequestMiddleware: RouterMiddleware {
    typealias Context = KuraRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where [HTTPResponse.Status.notFound, .methodNotAllowed].contains(error.status) && error.body == nil {
            let message = error.status == .notFound ? "no such endpoint" : "method not allowed"
            let refusal = RegistryError(.unsupported, message, detail: "\(request.method) \(request.uri.path)", status: error.status.code)
            return ErrorResponse.response(for: refusal, isHead: request.method == .head)
        }
    }
}
