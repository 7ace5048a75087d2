/// The `<reference>` of a manifest request: a tag or a digest.
public enum Reference: Sendable, Hashable, CustomStringConvertible {
    case tag(Tag)
    case digest(Digest)

    /// Parses a reference. A string containing `:` can only be a digest (tags forbid `:`),
    /// so its digest error is reported; anything else must be a valid tag.
    public init(parsing string: some StringProtocol) throws(RegistryError) {
        if string.contains(":") {
            do { self = .digest(try Digest(parsing: string)) } catch {
                throw RegistryError(.digestInvalid, error.description)
            }
        } else {
            do { self = .tag(try Tag(parsing: string)) } catch {
                throw RegistryError(.manifestInvalid, error.description)
            }
        }
    }

    public var description: String {
        switch self {
        case .tag(let t): t.value
        case .digest(let d): d.description
        }
    }

    public var digest: Digest? {
        if case .digest(let d) = self { return d }
        return nil
    }

    public var tag: Tag? {
        if case .tag(let t) = self { return t }
        return nil
    }
}
