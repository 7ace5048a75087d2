import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The console's mustache templates (embedded in the binary) and the layout around each
/// page. `{{value}}` escapes HTML; the only triple mustaches are the page body inside the
/// layout and Markdown that ``HTMLSanitizer`` has cleaned.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

    static let templates: [String: [UInt8]] = [
        "layout": PackageResources.layout_mustache, "error": PackageResources.error_mustache,
        "sign-in": PackageResources.sign_in_mustache, "namespaces": PackageResources.namespaces_mustache,
        "namespace": PackageResources.namespace_mustache, "repository": PackageResources.repository_mustache,
        "manifest": PackageResources.manifest_mustache, "confirm-delete": PackageResources.confirm_delete_mustache,
        "accounts": PackageResources.accounts_mustache, "account": PackageResources.account_mustache,
        "audit": PackageResources.audit_mustache, "jobs": PackageResources.jobs_mustache,
        "usage": PackageResources.usage_mustache, "namespace-settings": PackageResources.namespace_settings_mustache,
        "replication": PackageResources.replication_mustache,
    ]

    init() throws {
        var library = MustacheLibrary()
        for (name, bytes) in Self.templates {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// `template` rendered with `view`, inside the layout.
    func page(_ template: String, _ view: Any, layout: LayoutView, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var layout = layout
        layout.body = library.render(MustacheFields.of(view), withTemplate: template) ?? ""
        let html = library.render(MustacheFields.of(layout), withTemplate: "layout") ?? ""
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        let buffer = ByteBuffer(string: html)
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}

/// What the layout shows around every page: the title, who is signed in, the way back.
struct LayoutView {
    struct Crumb {
        var name: String
        var href: String
    }

    var title: String
    var account: String?
    var isAdmin = false
    var isSignedIn = false
    var csrf = ""
    var crumbs: [Crumb] = []
    var hasCrumbs = false
    var body = ""

    init(title: String, visit: Visit?, crumbs: [Crumb] = []) {
        self.title = title
        self.crumbs = crumbs
        hasCrumbs = !crumbs.isEmpty
        if let visit, visit.session != nil {
            account = visit.principal.accountName
            isAdmin = visit.principal.isAdmin
            isSignedIn = true
            csrf = visit.csrfToken
        }
    }
}

struct ErrorView {
    var status: Int
    var message: String
}
