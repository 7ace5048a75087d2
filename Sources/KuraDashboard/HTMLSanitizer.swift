/// Keeps the HTML Markdown produces and nothing else: an allow-list of tags without
/// attributes, links to http(s), mailto and same-site paths, and images from this site
/// only. Any other `<` becomes `&lt;`, so raw HTML in a description shows as text.
enum HTMLSanitizer {
    static let allowedTags: Set<String> = [
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "img",
    ]

    static func sanitize(_ html: String) -> String {
        var output = ""
        output.reserveCapacity(html.utf8.count)
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            output += rest[..<open]
            rest = rest[open...]
            if let (tag, length) = allowedTag(rest) {
                output += tag
                rest = rest.dropFirst(length)
            } else {
                output += "&lt;"
                rest = rest.dropFirst()
            }
        }
        output += rest
        return output
    }

    /// The tag at the start of `text` rebuilt from its allowed parts, and its length in
    /// characters; `nil` when it is not an allowed, well-formed tag.
    static func allowedTag(_ text: Substring) -> (String, Int)? {
        guard let close = text.firstIndex(of: ">") else { return nil }
        let inner = text[text.index(after: text.startIndex)..<close]
        let length = text.distance(from: text.startIndex, to: close) + 1
        let isEnd = inner.hasPrefix("/")
        var body = isEnd ? inner.dropFirst() : inner
        if body.hasSuffix("/") { body = body.dropLast() }
        let name = body.prefix { $0.isLetter || $0.isNumber }.lowercased()
        guard allowedTags.contains(name), !body.contains("<") else { return nil }
        if isEnd { return body.count == name.count ? ("</\(name)>", length) : nil }
        guard let attributes = parseAttributes(body.dropFirst(name.count)) else { return nil }
        switch name {
        case "a":
            let href = attributes["href"].flatMap(safeLink)
            return (href.map { "<a href=\"\($0)\" rel=\"nofollow noopener noreferrer\">" } ?? "<a>", length)
        case "img":
            guard let src = attributes["src"].flatMap(safeImage) else { return ("", length) }
            return ("<img src=\"\(src)\" alt=\"\(escape(attributes["alt"] ?? ""))\">", length)
        default:
            return ("<\(name)>", length)
        }
    }

    /// `name="value"` pairs only (what Ink writes); anything else refuses the tag.
    static func parseAttributes(_ text: Substring) -> [String: String]? {
        var result: [String: String] = [:]
        var rest = text.drop { $0 == " " }
        while !rest.isEmpty {
            let name = rest.prefix { $0.isLetter || $0 == "-" }
            guard !name.isEmpty else { return nil }
            rest = rest.dropFirst(name.count)
            guard rest.hasPrefix("=\"") else { return nil }
            rest = rest.dropFirst(2)
            guard let end = rest.firstIndex(of: "\"") else { return nil }
            result[name.lowercased()] = String(rest[..<end])
            rest = rest[rest.index(after: end)...].drop { $0 == " " }
        }
        return result
    }

    /// A link target that cannot run script: http, https, mailto, a fragment or a path
    /// on this site. Entities, backslashes and control characters refuse it (they hide schemes).
    static func safeLink(_ href: String) -> String? {
        let lower = href.lowercased()
        // Character references could spell a scheme (`jav&#x61;script:`, `javascript&colon;`);
        // only &amp; and a bare & (query strings) pass.
        let unescaped = href.replacingOccurrences(of: "&amp;", with: "")
        guard !unescaped.contains("&#"), unescaped.firstMatch(of: /&[A-Za-z0-9]+;/) == nil, !href.unicodeScalars.contains(where: { $0.value < 0x21 || $0 == "\\" }) else { return nil }
        let schemes = ["http://", "https://", "mailto:"]
        if schemes.contains(where: lower.hasPrefix) { return escape(href) }
        if lower.hasPrefix("//") { return nil }
        // A relative reference: no scheme before the first / ? or #.
        let head = lower.prefix { !"/?#".contains($0) }
        return head.contains(":") ? nil : escape(href)
    }

    /// Images only from this site (a path), never another host or a data: URL.
    static func safeImage(_ src: String) -> String? {
        guard let link = safeLink(src), !src.lowercased().hasPrefix("http"), !src.lowercased().hasPrefix("mailto:") else { return nil }
        return link
    }

    /// Attribute-safe text (values arrive already escaped by Ink; `"` ends them, so only `<>` remain).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
