import Hummingbird
import KuraCore

/// First middleware on every listener: works out the request's ``RequestOrigin`` and,
/// as a second line behind the accept-time check, refuses peers outside the allow-list.
struct ListenerMiddleware: RouterMiddleware {
    typealias Context = KuraRequestContext
    let listener: ListenerConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let peer = context.remoteAddress?.ipAddress
        if let allow = listener.allow {
            guard let peer, let address = IPAddress(parsing: peer), allow.containsAddress(address) else {
                return Response(status: .forbidden, headers: [.contentLength: "0"])
            }
        }
        var context = context
        context.resolvedOrigin = RequestOrigin.resolve(request, peer: peer, listener: listener)
        return try await next(request, context)
    }
}
