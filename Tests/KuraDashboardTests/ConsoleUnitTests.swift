import Foundation
import KuraMetadata
import Testing

@testable import KuraDashboard

/// The Markdown sanitiser and the session store, without a server.
struct MarkdownSanitisingTests {
    @Test func markdownKeepsItsFormatting() {
        let html = MarkdownRenderer.html("# Title\n\nSome **bold** and `code`, a [link](https://example.com/x?a=1&b=2).\n\n- item")
        #expect(html.contains("<h1>Title</h1>"))
        #expect(html.contains("<strong>bold</strong>"))
        #expect(html.contains("<code>code</code>"))
        #expect(html.contains("<a href=\"https://example.com/x?a=1"))
        #expect(html.contains("<li>item</li>"))
    }

    /// Each attack, and whether it shows as text (an allowed tag such as <a> or <p> stays a
    /// tag, stripped of its attributes).
    @Test(arguments: [
        ("<script>alert(1)</script>", true),
        ("<img src=x onerror=alert(1)>", true),
        ("<iframe src=\"https://evil.example\"></iframe>", true),
        ("<svg onload=alert(1)>", true),
        ("<a href=\"javascript:alert(1)\">x</a>", false),
        ("<p onclick=\"alert(1)\">x</p>", false),
        ("<scr<script>ipt>alert(1)</script>", true),
    ])
    func rawHTMLBecomesText(_ attack: String, _ showsAsText: Bool) throws {
        let html = MarkdownRenderer.html("before\n\n\(attack)\n\nafter")
        // Escaped text has no `<`, so every match here is a real tag.
        let tags = try Regex("<[^>]*>")
        for match in html.matches(of: tags) {
            let tag = html[match.range].lowercased()
            for forbidden in ["script", "img", "iframe", "svg", " on", "javascript", "style"] {
                #expect(!tag.contains(forbidden), "\(attack) → \(html)")
            }
        }
        #expect(html.contains("&lt;") == showsAsText, "\(attack): \(html)")
    }

    @Test(arguments: [
        "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "jav&#x61;script:alert(1)", "javascript&colon;alert(1)",
        "data:text/html,<script>alert(1)</script>", "vbscript:x", "//evil.example/x", "java\tscript:alert(1)", "\\\\evil.example",
    ])
    func dangerousLinksLoseTheirTarget(_ href: String) {
        #expect(HTMLSanitizer.safeLink(href) == nil, "\(href)")
    }

    @Test func safeLinksStay() {
        for href in ["https://example.com/a", "http://example.com", "mailto:a@example.com", "#usage", "/namespaces/team", "docs/readme.md"] {
            #expect(HTMLSanitizer.safeLink(href) != nil, "\(href)")
        }
    }

    @Test func imagesComeOnlyFromThisSite() {
        #expect(!MarkdownRenderer.html("![x](http://evil.example/p.png)").contains("<img"))
        #expect(!MarkdownRenderer.html("![x](//evil.example/p.png)").contains("<img"))
        #expect(!MarkdownRenderer.html("![x](data:image/png;base64,AAAA)").contains("<img"))
        #expect(MarkdownRenderer.html("![logo](/static/logo.png)").contains("<img src=\"/static/logo.png\""))
    }
}

struct ConsoleSessionTests {
    final class Clock: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_000_000)
    }

    @Test func idleAndAbsoluteExpiry() async throws {
        let clock = Clock()
        let sessions = ConsoleSessions(store: try SQLiteMetadataStore.inMemory(), idleTimeout: 60, absoluteTimeout: 150, now: { clock.now })
        let session = try await sessions.start(keyID: "K")
        clock.now += 59
        #expect(try await sessions.resume(session.id) != nil)
        clock.now += 59
        #expect(try await sessions.resume(session.id) != nil, "activity keeps it alive")
        clock.now += 33
        #expect(try await sessions.resume(session.id) == nil, "past the absolute limit, even while active")
        let idle = try await sessions.start(keyID: "K")
        clock.now += 60
        #expect(try await sessions.resume(idle.id) == nil, "idle for the whole timeout")
        #expect(try await sessions.count() == 0)
    }

    @Test func tokensAreRandomAndCompareExactly() async throws {
        let sessions = ConsoleSessions(store: try SQLiteMetadataStore.inMemory())
        let a = try await sessions.start(keyID: "K"), b = try await sessions.start(keyID: "K")
        #expect(a.id != b.id && a.csrfToken != b.csrfToken && a.id.count >= 43)
        #expect(ConsoleSessions.tokensMatch(a.csrfToken, a.csrfToken))
        #expect(!ConsoleSessions.tokensMatch(a.csrfToken, b.csrfToken))
        #expect(!ConsoleSessions.tokensMatch("", ""))
        try await sessions.end(a.id)
        #expect(try await sessions.resume(a.id) == nil)
        #expect(try await sessions.resume(b.id) != nil)
    }
}
