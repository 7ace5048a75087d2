public import Hummingbird
public import KuraAccess
import KuraCore
public import KuraMirror
public import KuraRegistry
import Logging
import NIOCore

/// The OCI Distribution API (`/v2/`) over a ``Registry``. Handlers translate HTTP to service
/// calls and errors to the spec's error bodies; the rules live in the registry. With access
/// control, every request is authenticated and checked against the action it needs first.
public struct RegistryAPI: Sendable {
    let registry: Registry
    let access: AccessControl?
    /// Whether anonymous callers may pull public namespaces through this listener.
    let anonymousPull: Bool
    let rateLimiter: RequestRateLimiter?
    /// Answers pulls in proxy namespaces with what is not here yet.
    let proxy: PullThroughCache?

    public init(
        registry: Registry, access: AccessControl? = nil, anonymousPull: Bool = true, rateLimiter: RequestRateLimiter? = nil,
        proxy: PullThroughCache? = nil
    ) {
        self.registry = registry
        self.access = access
        self.anonymousPull = anonymousPull
        self.rateLimiter = rateLimiter
        self.proxy = proxy
    }

    /// Adds the `/v2` routes to a router.
    public func register(on router: Router<KuraRequestContext>) {
        let methods: [HTTPRequest.Method] = [.get, .head, .put, .post, .patch, .delete]
        for path in ["/v2", "/v2/**"] {
            for method in methods {
                router.on(RouterPath(path), method: method) { request, context in
                    await self.respond(
                        to: request, logger: context.logger, origin: context.origin(of: request), channel: context.channel)
                }
            }
        }
    }

    /// Answers one request; never throws (errors become error responses). Blob bodies are
    /// written on `channel`, the connection's.
    func respond(to request: Request, logger: Logger, origin: RequestOrigin, channel: any Channel) async -> Response {
        let isHead = request.method == .head
        var response: Response
        do {
            guard let endpoint = try V2Endpoint(path: request.uri.path) else {
                throw RegistryError(.unsupported, "no such endpoint", detail: request.uri.path, status: 404)
            }
            let observation = RequestObservation.current
            observation?.update { $0.route = endpoint.routePattern }
            // The address is limited before any work; the key once it is known.
            try admit(address: origin.clientAddress, keyID: nil)
            let caller = try await authorize(endpoint, request: request, origin: origin)
            try admit(address: nil, keyID: caller.principal.keyID)
            if let observation { observe(endpoint, request: request, caller: caller, into: observation) }
            // What the registry does for this request is announced as the caller's doing.
            response = try await RegistryEvents.withActor(caller.eventActor) {
                try await dispatch(endpoint, request: request, caller: caller, logger: logger, channel: channel)
            }
        } catch let failure as AuthorizationFailure {
            response = failure.response(isHead: isHead)
        } catch {
            response = ErrorResponse.make(error, isHead: isHead, logger: logger)
        }
        response.headers[.dockerDistributionAPIVersion] = "registry/2.0"
        // Absolute, on the endpoint the client came in on (behind a proxy: the proxy's).
        if let location = response.headers[.location], location.hasPrefix("/") {
            response.headers[.location] = origin.baseURL + location
        }
        return response
    }

    private func dispatch(
        _ endpoint: V2Endpoint, request: Request, caller: Caller, logger: Logger, channel: any Channel
    ) async throws -> Response {
        let method = request.method
        switch (endpoint, method) {
        case (.base, .get), (.base, .head):
            return jsonResponse(Array("{}".utf8), isHead: method == .head)
        case (.catalog, .get):
            return try await catalog(request, caller: caller)
        case (.tags(let name), .get):
            return try await tags(request, name)
        case (.manifest(let name, let reference), .get), (.manifest(let name, let reference), .head):
            return try await getManifest(request, name, reference)
        case (.manifest(let name, let reference), .put):
            return try await putManifest(request, name, reference)
        case (.manifest(let name, let reference), .delete):
            return try await deleteManifest(name, reference)
        case (.blob(let name, let digest), .get), (.blob(let name, let digest), .head):
            return try await getBlob(request, name, digest, on: channel)
        case (.blob(let name, let digest), .delete):
            return try await deleteBlob(name, digest)
        case (.uploads(let name), .post):
            return try await startUpload(request, name, caller: caller)
        case (.upload(let name, let id), .patch):
            return try await patchUpload(request, name, id)
        case (.upload(let name, let id), .put):
            return try await putUpload(request, name, id)
        case (.upload(let name, let id), .get):
            return try await uploadStatus(name, id)
        case (.upload(let name, let id), .delete):
            return try await cancelUpload(name, id)
        case (.referrers(let name, let digest), .get):
            return try await referrers(request, name, digest)
        default:
            throw RegistryError(.unsupported, "method not allowed", detail: "\(method) \(request.uri.path)")
        }
    }

    func jsonResponse(_ body: [UInt8], status: HTTPResponse.Status = .ok, contentType: String = "application/json", isHead: Bool = false, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        headers[.contentLength] = String(body.count)
        if isHead { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    func parseDigest(_ text: String) throws -> Digest {
        do { return try Digest(parsing: text) } catch {
            throw RegistryError(.digestInvalid, "invalid digest", detail: error.description)
        }
    }

    func emptyResponse(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers)
    }
}
