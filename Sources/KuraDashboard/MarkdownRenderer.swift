import Ink

/// A repository's full description as HTML: Markdown rendered by Ink, then passed through
/// ``HTMLSanitizer`` (Ink keeps raw HTML, and links may carry any scheme).
enum MarkdownRenderer {
    static func html(_ markdown: String) -> String {
        HTMLSanitizer.sanitize(MarkdownParser().html(from: markdown))
    }
}
