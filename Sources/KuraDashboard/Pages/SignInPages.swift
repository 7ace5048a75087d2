import Foundation
import HTTPTypes
import Hummingbird
import KuraAccess
import KuraHTTP

/// Signing in with an access key id and secret, and out. The sign-in form carries its own
/// CSRF token (a cookie and a field that must match), as there is no session yet.
extension Dashboard {
    static let signInCookie = "kura_sign_in"

    struct SignInView {
        var next: String
        var csrf: String
        var expired: Bool
        var failure: String?
        var keyID: String
    }

    func registerSignIn(on router: Router<KuraRequestContext>, listener: ListenerConfiguration) {
        router.get("/sign-in") { request, context in
            let isTLS = context.origin(of: request).scheme == "https"
            do { try admit(address: context.sourceAddress, keyID: nil) } catch { return secured(errorPage(error, context: context), isTLS: isTLS) }
            let query = request.uri.queryParameters
            return secured(
                signInPage(
                    next: Self.safeNext(query["next"].map(String.init)), expired: query["expired"] == "1", failure: nil, keyID: "", isTLS: isTLS),
                isTLS: isTLS)
        }
        router.post("/sign-in") { request, context in
            let isTLS = context.origin(of: request).scheme == "https"
            do { try admit(address: context.sourceAddress, keyID: nil) } catch { return secured(errorPage(error, context: context), isTLS: isTLS) }
            var request = request
            let form = FormBody(bytes: (try? await request.collectBody(upTo: 16 << 10)) ?? ByteBuffer())
            let next = Self.safeNext(form["next"])
            guard let cookie = Self.cookie(Self.signInCookie, in: request), let token = form["csrf"],
                ConsoleSessions.tokensMatch(cookie, token)
            else {
                return secured(errorPage(AdminError.denied("the sign-in form's security token is missing or stale; reload the page"), context: context), isTLS: isTLS)
            }
            let keyID = (form["access_key_id"] ?? "").trimmingCharacters(in: .whitespaces)
            let signedInKey: String
            do {
                let principal = try await admin.access.authenticate(
                    keyID: keyID, secret: form["secret_key"] ?? "", sourceAddress: context.sourceAddress)
                guard let key = principal.keyID else { throw AccessControl.AuthenticationError.invalidCredentials }
                signedInKey = key
            } catch AccessControl.AuthenticationError.rateLimited(let seconds) {
                var response = signInPage(
                    next: next, expired: false, failure: "Too many failed sign-ins. Try again in \(seconds) s.", keyID: keyID, isTLS: isTLS,
                    status: .tooManyRequests)
                response.headers[.retryAfter] = String(seconds)
                return secured(response, isTLS: isTLS)
            } catch {
                return secured(
                    signInPage(
                        next: next, expired: false, failure: "The access key id or secret key is wrong.", keyID: keyID, isTLS: isTLS,
                        status: .unauthorized),
                    isTLS: isTLS)
            }
            // The session goes into the catalog; if that fails, the page says so (not "wrong key").
            let session: ConsoleSessions.Session
            do { session = try await sessions.start(keyID: signedInKey) } catch { return secured(errorPage(error, context: context), isTLS: isTLS) }
            var headers: HTTPFields = [.location: next, .contentLength: "0"]
            headers.append(HTTPField(name: .setCookie, value: Self.sessionCookieHeader(session.id, isTLS: isTLS)))
            headers.append(HTTPField(name: .setCookie, value: "\(Self.signInCookie)=; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=0"))
            return secured(Response(status: .seeOther, headers: headers), isTLS: isTLS)
        }
        router.post("/sign-out") { request, context in
            await visit(request, context, listener, signInRequired: true) { visit, _ in
                if let session = visit.session { try await sessions.end(session.id) }
                return Self.redirect(to: "/sign-in", clearing: true, isTLS: visit.isTLS)
            }
        }
    }

    private func signInPage(
        next: String, expired: Bool, failure: String?, keyID: String, isTLS: Bool, status: HTTPResponse.Status = .ok
    ) -> Response {
        let token = ConsoleSessions.randomToken()
        var cookie = "\(Self.signInCookie)=\(token); Path=/sign-in; HttpOnly; SameSite=Strict"
        if isTLS { cookie += "; Secure" }
        return pages.page(
            "sign-in", SignInView(next: next, csrf: token, expired: expired, failure: failure, keyID: keyID),
            layout: LayoutView(title: "Sign in", visit: nil), status: status, headers: [.setCookie: cookie])
    }
}
