/// Which tags of a repository a mirror copies: all, those matching a regular expression
/// (whole tag), those that are versions in a semver range, or both conditions at once.
public struct TagFilter: Sendable {
    private let pattern: String?
    private let range: SemanticVersionRange?
    // Regex is not Sendable; it is rebuilt per call from the checked pattern (cheap next to a network call).

    public init(regex pattern: String? = nil, semver range: String? = nil) throws(MirrorError) {
        if let pattern {
            do { _ = try Regex(pattern) } catch {
                throw .invalidArgument("invalid tag pattern \(pattern.debugDescription): \(error)")
            }
        }
        self.pattern = pattern
        self.range = try range.map { (text: String) throws(MirrorError) in try SemanticVersionRange(parsing: text) }
    }

    /// Copies every tag.
    public static let all = try! TagFilter()

    public func matches(_ tag: String) -> Bool {
        if let range, !range.matches(tag: tag) { return false }
        if let pattern, let regex = try? Regex(pattern), (try? regex.wholeMatch(in: tag)) == nil { return false }
        return true
    }

    public var isEverything: Bool { pattern == nil && range == nil }
}
