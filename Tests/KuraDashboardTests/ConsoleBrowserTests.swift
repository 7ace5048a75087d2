import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraTestSupport
import NIOCore
import Testing

/// The console in a real headless Chromium (Debian's chromium and chromium-driver, installed
/// by scripts/install-deps). Screenshots of each page go to `.build/console-screenshots/`.
@Suite(.serialized)
struct ConsoleBrowserTests {
    /// Signs in through the form; returns when the namespaces page shows.
    static func signIn(_ browser: Browser, _ server: ConsoleServer, key: String, secret: String) async throws {
        try await browser.go(server.baseURL + "/sign-in")
        try await browser.type("#access_key_id", key)
        try await browser.type("#secret_key", secret)
        try await browser.follow("#sign-in")
        #expect(try await browser.text("#account").isEmpty == false)
    }

    @Test func signInBrowseEditDeleteAndSignOut() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let shared = try await server.pushImage("team/app", tags: ["v1", "v1-alias"], labels: ["org.opencontainers.image.title": "app"])
            try await server.pushImage("team/app", tags: ["v2"], seed: 7)
            try await server.pushImage("team/tools", tags: ["latest"], seed: 9)
            // v2 is pulled (and the meter flushed): its row shows when, the others nothing.
            let pulled = try await server.client.execute(
                uri: "/v2/team/app/manifests/v2", method: .get, headers: [.authorization: server.rootAuthorization, .accept: MediaType.ociManifest])
            #expect(pulled.status == .ok)
            try await server.services.usage?.flush()
            try await Browser.with { browser in
                // Signed out, a private namespace shows nothing of itself.
                try await browser.go(server.baseURL + "/namespaces/team")
                #expect(try await browser.currentURL.contains("/sign-in") == false)
                #expect(try await browser.pageSource.contains("team/app") == false)
                try await browser.go(server.baseURL + "/sign-in")
                try await browser.screenshot("01-sign-in")

                try await Self.signIn(browser, server, key: server.rootKey, secret: server.rootSecret)
                #expect(try await browser.text("#namespaces").contains("team"))
                try await browser.screenshot("02-namespaces")

                try await browser.follow("#namespaces a[href='/namespaces/team']")
                #expect(try await browser.findAll("#repositories tbody tr").count == 2)
                try await browser.screenshot("03-namespace")

                try await browser.follow("#repositories a[href='/repositories/team/app']")
                #expect(try await browser.findAll("#tags tbody tr").count == 3)
                #expect(try await browser.text("#pull-docker") == "docker pull 127.0.0.1:\(server.port)/team/app:v1")
                #expect(try await browser.text("#tags tr[data-tag='v2'] td.last-pulled").hasSuffix(" UTC"))
                #expect(try await browser.text("#tags tr[data-tag='v1'] td.last-pulled").isEmpty)

                // Edit both descriptions in place; the Markdown comes back rendered.
                try await browser.click("#edit-description summary")
                try await browser.type("#short", "The app, in one line")
                try await browser.type("#full", "# Usage\n\nRun it with **care**.\n\n- one\n- two")
                try await browser.follow("#save-description")
                #expect(try await browser.text("#short-description") == "The app, in one line")
                #expect(try await browser.text("#full-description h1") == "Usage")
                #expect(try await browser.text("#full-description strong") == "care")
                #expect(try await browser.findAll("#full-description li").count == 2)
                try await browser.screenshot("04-repository")

                // Tag → manifest: its layers and config.
                try await browser.follow("#tags tr[data-tag='v2'] a.tag-link")
                #expect(try await browser.findAll("#layers tbody tr").count == 2)
                #expect(try await browser.text("#history").contains("COPY app /bin/app"))
                #expect(try await browser.text("#manifest-tags") == "v2")
                try await browser.screenshot("05-manifest")

                // Delete v1: the confirmation names the digest and the tag that keeps it.
                try await browser.go(server.baseURL + "/repositories/team/app")
                try await browser.follow("#tags tr[data-tag='v1'] a.delete-tag")
                #expect(try await browser.text("#delete-target") == "v1")
                let confirmation = try await browser.text("#confirm-delete")
                #expect(confirmation.contains(shared.description))
                #expect(confirmation.contains("v1-alias"))
                try await browser.screenshot("06-confirm-delete")
                try await browser.follow("#confirm")
                #expect(try await browser.findAll("#tags tr[data-tag='v1']").isEmpty)
                #expect(try await browser.findAll("#tags tr[data-tag='v1-alias']").count == 1)
                #expect(try await server.manifestStatus("team/app", "v1") == .notFound)
                #expect(try await server.manifestStatus("team/app", "v1-alias") == .ok)

                // Sign out: the session is gone, and the private namespace with it.
                try await browser.follow("#sign-out")
                #expect(try await browser.currentURL.contains("/sign-in"))
                #expect(try await server.sessions.count() == 0)
                try await browser.go(server.baseURL + "/repositories/team/app")
                #expect(try await browser.pageSource.contains("v1-alias") == false)
            }
        }
    }

    @Test func viewerSeesNoControlsAndAForgedPostIsRefused() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.pushImage("team/app", tags: ["v1"])
            let (key, secret) = try await server.account("reader", role: "viewer", on: "team")
            try await Browser.with { browser in
                try await Self.signIn(browser, server, key: key, secret: secret)
                try await browser.go(server.baseURL + "/repositories/team/app")
                #expect(try await browser.findAll("#tags tbody tr").count == 1)
                #expect(try await browser.findAll("a.delete-tag").isEmpty)
                #expect(try await browser.findAll("#edit-description").isEmpty)
                try await browser.screenshot("07-viewer-repository")
                try await browser.go(server.baseURL + "/repositories/team/app/-/manifests/v1")
                #expect(try await browser.findAll("#delete-manifest").isEmpty)

                // A hand-made POST with the viewer's own session and a valid token: 403.
                let cookie = try await browser.cookies().first { $0["name"] as? String == "kura_session" }?["value"] as? String ?? ""
                let token = try await browser.execute("return document.querySelector('input[name=csrf]').value") as? String ?? ""
                #expect(!cookie.isEmpty && !token.isEmpty)
                for (path, form) in [
                    ("/repositories/team/app/-/delete", "csrf=\(token)&reference=v1"),
                    ("/repositories/team/app/-/description", "csrf=\(token)&short=defaced"),
                ] {
                    let response = try await server.client.execute(
                        uri: path, method: .post,
                        headers: [.cookie: "kura_session=\(cookie)", .contentType: "application/x-www-form-urlencoded"],
                        body: ByteBuffer(string: form))
                    #expect(response.status == .forbidden, "\(path)")
                }
                #expect(try await server.manifestStatus("team/app", "v1") == .ok)
                let description = try await server.client.execute(
                    uri: "/api/v1/repositories/team/app/description", method: .get, headers: [.authorization: server.rootAuthorization])
                #expect(String(buffer: description.body).contains("defaced") == false)
            }
        }
    }

    @Test func anExpiredSessionSendsTheBrowserToSignIn() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            try await server.pushImage("team/app", tags: ["v1"])
            let (key, secret) = try await server.account("dev", role: "manager", on: "team")
            try await Browser.with { browser in
                try await Self.signIn(browser, server, key: key, secret: secret)
                try await browser.go(server.baseURL + "/repositories/team/app")
                #expect(try await browser.findAll("#tags tbody tr").count == 1)
                // Just inside the idle limit the session lives on (and is refreshed)…
                server.clock.advance(by: ConsoleServer.idleTimeout - 1)
                try await browser.go(server.baseURL + "/repositories/team/app")
                #expect(try await browser.findAll("#tags tbody tr").count == 1)
                // …past it, the next page is the sign-in form, saying why.
                server.clock.advance(by: ConsoleServer.idleTimeout)
                try await browser.go(server.baseURL + "/repositories/team/app")
                #expect(try await browser.currentURL.contains("/sign-in?next="))
                #expect(try await browser.text("#expired").contains("ended"))
                try await browser.screenshot("08-expired")

                // Signing in again lands back on the page; disabling the key ends the session at once.
                try await browser.type("#access_key_id", key)
                try await browser.type("#secret_key", secret)
                try await browser.follow("#sign-in")
                #expect(try await browser.currentURL.hasSuffix("/repositories/team/app"))
                try await server.admin(.patch, "keys/\(key)", "{\"status\":\"disabled\"}")
                try await browser.go(server.baseURL + "/repositories/team/app")
                #expect(try await browser.currentURL.contains("/sign-in"))
            }
        }
    }

    @Test func hostileCatalogValuesShowAsTextAndRunNothing() async throws {
        try await withConsoleServer { server in
            try await server.admin(.post, "namespaces", "{\"name\":\"team\"}")
            let attack = "<script>window.kuraPwned=1</script><img src=x onerror=\"window.kuraPwned=2\">&amp;&lt;b&gt;"
            try await server.pushImage(
                "team/app", tags: ["v1"], labels: ["evil": attack, "<script>key</script>": "x"],
                annotations: ["org.opencontainers.image.description": attack])
            let full = """
                # Hello

                \(attack)

                [click me](javascript:window.kuraPwned=3) [entity](jav&#x61;script:window.kuraPwned=4) [colon](javascript&colon;window.kuraPwned=5)

                ![remote](http://evil.example/pixel.png) <a href="javascript:window.kuraPwned=6">raw link</a>
                """
            let body = try JSONSerialization.data(withJSONObject: ["short": attack.prefix(100).description, "full": full])
            let saved = try await server.client.execute(
                uri: "/api/v1/repositories/team/app/description", method: .put,
                headers: [.authorization: server.rootAuthorization, .contentType: "application/json"], body: ByteBuffer(bytes: body))
            #expect(saved.status == .ok)
            try await Browser.with { browser in
                try await Self.signIn(browser, server, key: server.rootKey, secret: server.rootSecret)
                for (page, name) in [("/repositories/team/app", "09-attack-repository"), ("/repositories/team/app/-/manifests/v1", "10-attack-manifest")] {
                    try await browser.go(server.baseURL + page)
                    #expect(try await browser.alertText() == nil)
                    #expect(try await browser.execute("return window.kuraPwned === undefined") as? Bool == true, "\(page)")
                    #expect(try await browser.findAll("main script, main img, main iframe").isEmpty)
                    let scriptLinks = try await browser.execute(
                        "return Array.from(document.links).filter(a => a.protocol !== 'http:' && a.protocol !== 'https:').length") as? Int
                    #expect(scriptLinks == 0)
                    // Nothing was fetched from anywhere but this server.
                    let resources = try await browser.execute("return performance.getEntriesByType('resource').map(e => e.name)") as? [String] ?? []
                    #expect(resources.allSatisfy { $0.hasPrefix(server.baseURL) }, "\(resources)")
                    try await browser.screenshot(name)
                }
                // The text shows literally, entities as written.
                try await browser.go(server.baseURL + "/repositories/team/app")
                #expect(try await browser.text("#short-description").contains("<script>window.kuraPwned=1</script>"))
                #expect(try await browser.text("#full-description").contains("<img src=x onerror="))
                try await browser.go(server.baseURL + "/repositories/team/app/-/manifests/v1")
                #expect(try await browser.text("#labels").contains("<script>key</script>"))
                #expect(try await browser.text("#annotations").contains("&amp;&lt;b&gt;"))
            }
        }
    }
}
