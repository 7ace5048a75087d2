import Foundation
package import Hummingbird
import HTTPTypes
public import KuraAccess
import KuraCore
public import KuraHTTP
import KuraMirror
public import KuraRegistry
import Logging

/// The web console at `/` of every listener serving `dashboard`: server-rendered pages over
/// the services the admin API calls (``AccessAdmin``), signed in with an access key into a
/// server-side session. Handlers translate forms to service calls and results to pages;
/// the rules (who may read, edit, delete) live in KuraAccess.
public struct Dashboard: ListenerRoutes {
    let admin: AccessAdmin
    let sessions: ConsoleSessions
    let pages: PageRenderer
    /// Flushed before a usage page, so it includes the latest requests.
    let meter: UsageMeter?
    /// Shared with the listener's APIs (see ``sharing(_:)``); none by default.
    var rateLimiter: RequestRateLimiter? = nil
    var webhooks: WebhookDispatcher? = nil
    var replicator: Replicator? = nil

    public init(admin: AccessAdmin, sessions: ConsoleSessions, meter: UsageMeter? = nil) throws {
        self.admin = admin
        self.sessions = sessions
        self.meter = meter
        self.pages = try PageRenderer()
    }

    package func register(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        registerStatic(on: router)
        registerSignIn(on: router, listener: listener)
        registerBrowsing(on: router, listener: listener)
        registerRepository(on: router, listener: listener)
        registerAdministration(on: router, listener: listener)
        registerUsage(on: router, listener: listener)
        registerNamespaceSettings(on: router, listener: listener)
        registerReplication(on: router, listener: listener)
    }
}

/// One request to a page: who is calling and through which session.
struct Visit: Sendable {
    var caller: AccessAdmin.Caller
    var session: ConsoleSessions.Session?
    var listener: ListenerConfiguration
    var isTLS: Bool
    /// Path and query, for "back here after signing in".
    var target: String
    /// The `host[:port]` the browser reached, which `docker pull` reaches too.
    var authority: String

    var principal: Principal { caller.principal }
    var csrfToken: String { session?.csrfToken ?? "" }
}

extension Dashboard {
    static let sessionCookie = "kura_session"

    /// Resolves the session, enforces sign-in and (for POST) the CSRF token, runs `body` and
    /// turns its errors into pages. Every answer carries the security headers.
    func visit(
        _ request: Request, _ context: KuraRequestContext, _ listener: ListenerConfiguration, signInRequired: Bool = false,
        _ body: @Sendable (Visit, FormBody) async throws -> Response
    ) async -> Response {
        let origin = context.origin(of: request)
        let isTLS = origin.scheme == "https"
        let target = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        var response: Response
        do {
            // As on /v2/: the address is limited before any work, the key once it is known.
            try admit(address: context.sourceAddress, keyID: nil)
            var session: ConsoleSessions.Session?
            var principal = Principal.anonymous
            if let id = Self.cookie(Self.sessionCookie, in: request) {
                let found = try await sessions.resume(id)
                if let found, let current = try await admin.access.principal(ofSessionKey: found.keyID) {
                    session = found
                    principal = current
                } else {
                    // Expired or signed out (nothing left to remove), or its key or account no
                    // longer usable (the session goes now).
                    if found != nil { try await sessions.end(id) }
                    return secured(Self.redirect(to: Self.signInPath(next: target, expired: true), clearing: true, isTLS: isTLS), isTLS: isTLS)
                }
            }
            if let session { try admit(address: nil, keyID: session.keyID) }
            if session == nil, signInRequired || !listener.anonymousPull || request.method == .post {
                if request.method == .post { throw AdminError.denied("sign in first") }
                return secured(Self.redirect(to: Self.signInPath(next: target, expired: false)), isTLS: isTLS)
            }
            var form = FormBody()
            if request.method == .post {
                var request = request
                form = FormBody(bytes: try await request.collectBody(upTo: Self.maximumFormBytes))
                guard let session, let token = form["csrf"], ConsoleSessions.tokensMatch(token, session.csrfToken) else {
                    throw AdminError.denied("the form's security token is missing or stale; reload the page and try again")
                }
            }
            let visit = Visit(
                caller: .init(principal: principal, sourceAddress: context.sourceAddress), session: session, listener: listener, isTLS: isTLS,
                target: target, authority: origin.host ?? "localhost")
            response = try await body(visit, form)
        } catch {
            response = errorPage(error, context: context)
        }
        return secured(response, isTLS: isTLS)
    }

    /// Room for a full description (64 KiB) percent-encoded, and the other fields.
    static let maximumFormBytes = 3 * AccessAdmin.maximumFullDescriptionBytes + 16 << 10

    func errorPage(_ error: any Error, context: KuraRequestContext) -> Response {
        let (status, message): (Int, String)
        switch error {
        case let error as AdminError: (status, message) = (error.status, error.message)
        case let error as RegistryError: (status, message) = (error.httpStatus, [error.message, error.detail].compactMap { $0 }.joined(separator: ": "))
        case let error as RepositoryNameError: (status, message) = (400, error.description)
        case let error as TagError: (status, message) = (400, error.description)
        case let error as HTTPError where error.status == .contentTooLarge: (status, message) = (413, "the form is too large")
        default:
            context.logger.error("console failure", metadata: ["error": "\(error)"])
            (status, message) = (500, "internal error")
        }
        let view = ErrorView(status: status, message: message)
        var headers: HTTPFields = [:]
        if let retry = (error as? AdminError)?.retryAfterSeconds { headers[.retryAfter] = String(retry) }
        return pages.page(
            "error", view, layout: LayoutView(title: "Error \(status)", visit: nil), status: HTTPResponse.Status(code: status), headers: headers)
    }

    /// The headers every console answer carries: no inline script or style, no framing, no
    /// referrer to other sites, no caching of pages that hold personal data.
    func secured(_ response: Response, isTLS: Bool) -> Response {
        var response = response
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if isTLS { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }

    /// `kura_session=…; Path=/; HttpOnly; SameSite=Strict[; Secure]`, or its removal.
    static func sessionCookieHeader(_ value: String?, isTLS: Bool) -> String {
        var text = "\(sessionCookie)=\(value ?? ""); Path=/; HttpOnly; SameSite=Strict"
        if value == nil { text += "; Max-Age=0" }
        if isTLS { text += "; Secure" }
        return text
    }

    static func signInPath(next: String, expired: Bool) -> String {
        var path = "/sign-in?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")
        if expired { path += "&expired=1" }
        return path
    }

    /// A 303 to `location` (after a POST, the browser GETs it).
    static func redirect(to location: String, clearing: Bool = false, isTLS: Bool = false) -> Response {
        var headers: HTTPFields = [.location: location, .contentLength: "0"]
        if clearing { headers.append(HTTPField(name: .setCookie, value: sessionCookieHeader(nil, isTLS: isTLS))) }
        return Response(status: .seeOther, headers: headers)
    }

    /// Only a path on this site, so `next` cannot send a signed-in browser elsewhere.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
