import KuraCore

/// A request path of the `/v2/` API, split into its repository name and the part after it.
///
/// Repository names contain `/`, so the path is read from its end: the last one to three
/// components name the endpoint (`manifests/<ref>`, `blobs/<digest>`, `blobs/uploads/<id>`,
/// `tags/list`, `referrers/<digest>`) and everything before them is the name. References,
/// digests and upload ids never contain `/`, so this is unambiguous even for a repository
/// with a component called `blobs` or `manifests`.
enum V2Endpoint: Equatable {
    case base
    case catalog
    case tags(RepositoryName)
    case manifest(RepositoryName, reference: String)
    case blob(RepositoryName, digest: String)
    case uploads(RepositoryName)
    case upload(RepositoryName, id: String)
    case referrers(RepositoryName, digest: String)

    /// Parses a request path. Returns `nil` for a path that is no endpoint; throws
    /// `NAME_INVALID` for an endpoint whose repository name is invalid.
    init?(path: String) throws(RegistryError) {
        guard path == "/v2" || path.hasPrefix("/v2/") else { return nil }
        // Exactly one slash after /v2: `/v2//a/b` is no name for `a/b`.
        let rest = path.dropFirst(4)
        if rest.isEmpty {
            self = .base
            return
        }
        if rest == "_catalog" {
            self = .catalog
            return
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        let count = parts.count
        guard count >= 2 else { return nil }
        let last = parts[count - 1]
        let secondLast = parts[count - 2]

        func name(_ componentCount: Int) throws(RegistryError) -> RepositoryName {
            let text = parts[0..<(count - componentCount)].joined(separator: "/")
            do { return try RepositoryName(parsing: text) } catch {
                throw RegistryError(.nameInvalid, detail: error.description)
            }
        }

        if count >= 3, parts[count - 3] == "blobs", secondLast == "uploads" {
            let repository = try name(3)
            self = last.isEmpty ? .uploads(repository) : .upload(repository, id: String(last))
        } else if secondLast == "blobs", last == "uploads" {
            self = .uploads(try name(2))
        } else if secondLast == "tags", last == "list" {
            self = .tags(try name(2))
        } else if secondLast == "manifests", !last.isEmpty {
            self = .manifest(try name(2), reference: String(last))
        } else if secondLast == "blobs", !last.isEmpty {
            self = .blob(try name(2), digest: String(last))
        } else if secondLast == "referrers", !last.isEmpty {
            self = .referrers(try name(2), digest: String(last))
        } else {
            return nil
        }
    }
}
