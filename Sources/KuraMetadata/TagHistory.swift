public import Foundation

/// The order of a repository's tag pages in the console.
public enum TagOrder: String, Sendable, Hashable, CaseIterable {
    /// By name, in byte order (as `/v2/…/tags/list`).
    case name
    /// Most recently pushed first, then by name.
    case newest
}

/// Where a page of tags ends: the next page starts after it.
public struct TagPosition: Sendable, Hashable {
    public var tag: String
    /// Needed for ``TagOrder/newest``.
    public var updatedAt: Date

    public init(tag: String, updatedAt: Date) {
        self.tag = tag
        self.updatedAt = updatedAt
    }

    /// `millis~tag` (no tag holds `~`), for a URL.
    public var token: String { "\(updatedAt.catalogMilliseconds)~\(tag)" }

    public init?(token: String) {
        guard let tilde = token.firstIndex(of: "~"), let millis = Int64(token[..<tilde]) else { return nil }
        self.init(tag: String(token[token.index(after: tilde)...]), updatedAt: Date(catalogMilliseconds: millis))
    }
}
