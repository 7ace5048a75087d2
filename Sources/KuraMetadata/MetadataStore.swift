public import Foundation
public import KuraCore

/// A manifest as the catalog knows it. Its bytes live in the blob store under `digest`.
public struct ManifestRecord: Sendable, Hashable {
    public var digest: Digest
    public var mediaType: String
    public var size: Int64
    /// The manifest's `artifactType`, or for an image manifest without one, its config's
    /// media type (what the referrers API reports).
    public var artifactType: String?
    /// The manifest's `subject`, if it refers to another manifest.
    public var subject: Digest?
    /// The manifest's `annotations`, kept for the referrers API.
    public var annotations: [String: String]
    public var createdAt: Date

    public init(
        digest: Digest, mediaType: String, size: Int64, artifactType: String? = nil, subject: Digest? = nil,
        annotations: [String: String] = [:], createdAt: Date = Date()
    ) {
        self.digest = digest
        self.mediaType = mediaType
        self.size = size
        self.artifactType = artifactType
        self.subject = subject
        self.annotations = annotations
        self.createdAt = createdAt
    }
}

/// Something a manifest points at: a blob (config, layer) or a child manifest (index entry).
public struct ManifestReference: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case blob
        case manifest
    }

    public var digest: Digest
    public var kind: Kind

    public init(digest: Digest, kind: Kind) {
        self.digest = digest
        self.kind = kind
    }
}

/// A repository's link to a blob: the blob may be read through this repository.
public struct BlobLink: Sendable, Hashable {
    public var digest: Digest
    public var size: Int64
    public var linkedAt: Date

    public init(digest: Digest, size: Int64, linkedAt: Date) {
        self.digest = digest
        self.size = size
        self.linkedAt = linkedAt
    }
}

/// An upload session as the catalog knows it: which repository it belongs to. The bytes
/// and hash state are the storage engine's (``KuraStorage/BlobStore``).
public struct UploadRecord: Sendable, Hashable {
    public var id: String
    public var repository: RepositoryName
    public var createdAt: Date

    public init(id: String, repository: RepositoryName, createdAt: Date) {
        self.id = id
        self.repository = repository
        self.createdAt = createdAt
    }
}

/// The registry's catalog: repositories, blob links, manifests with their references,
/// tags and upload sessions.
///
/// Every implementation (SQLite, PostgreSQL) passes the same conformance suite. Methods are
/// atomic: each either happens entirely or not at all. Listing methods return results in
/// ascending byte order of the name, starting strictly after `after`.
public protocol MetadataStore: Sendable {
    // MARK: repositories

    /// Creates the repository if it does not exist.
    func createRepository(_ name: RepositoryName) async throws

    func repositoryExists(_ name: RepositoryName) async throws -> Bool

    /// Repository names in ascending order, strictly after `after`, at most `limit`.
    func repositories(after: String?, limit: Int) async throws -> [RepositoryName]

    /// The repositories of a namespace (named `namespace` or `namespace/…`) whose names
    /// contain `containing` (`""` for all), in ascending order, strictly after `after`, at
    /// most `limit`: one page of the console's namespace page.
    func repositories(inNamespace namespace: String, containing: String, after: String?, limit: Int) async throws -> [RepositoryName]

    /// How many repositories each of `namespaces` holds (those with none are left out).
    func repositoryCounts(inNamespaces namespaces: [String]) async throws -> [String: Int]

    /// As ``repositories(after:limit:)``, only those holding at least one manifest: what
    /// `_catalog` lists. A repository whose last manifest went (or that has only blobs from
    /// an unfinished push) is not listed; its blobs are GC's business.
    func listedRepositories(after: String?, limit: Int) async throws -> [RepositoryName]

    /// Deletes a repository and everything in it (tags, manifests, links, uploads).
    @discardableResult
    func deleteRepository(_ name: RepositoryName) async throws -> Bool

    // MARK: blob links

    /// Links a blob into a repository (creating the repository). Linking again refreshes
    /// `linkedAt`.
    func linkBlob(_ digest: Digest, size: Int64, in repository: RepositoryName) async throws

    func blobLink(_ digest: Digest, in repository: RepositoryName) async throws -> BlobLink?

    @discardableResult
    func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool

    /// Repositories that link `digest`, in ascending order, at most `limit`.
    func repositoriesLinking(_ digest: Digest, limit: Int) async throws -> [RepositoryName]

    // MARK: manifests and tags

    /// Stores a manifest with its references in a repository (creating the repository) and,
    /// if `tag` is given, points the tag at it — all in one transaction. Putting a manifest
    /// that exists again only moves the tag.
    func putManifest(
        _ manifest: ManifestRecord, references: [ManifestReference], in repository: RepositoryName, tag: Tag?
    ) async throws

    func manifest(_ digest: Digest, in repository: RepositoryName) async throws -> ManifestRecord?

    /// The references stored with a manifest.
    func references(of digest: Digest, in repository: RepositoryName) async throws -> [ManifestReference]

    /// Deletes a manifest, its references and every tag pointing at it.
    @discardableResult
    func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool

    /// Manifests in the repository whose subject is `subject`, optionally only those with
    /// `artifactType`, ordered by digest.
    func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws
        -> [ManifestRecord]

    func resolveTag(_ tag: Tag, in repository: RepositoryName) async throws -> Digest?

    /// The manifest a tag points at, in one step (the hot path of every pull by tag).
    func manifest(tagged tag: Tag, in repository: RepositoryName) async throws -> ManifestRecord?

    /// Tags in ascending order, strictly after `after`, at most `limit`.
    func tags(in repository: RepositoryName, after: String?, limit: Int) async throws -> [Tag]

    /// How many tags each of `repositories` holds, counted up to `cap` (a repository with
    /// more shows `cap`); those without tags are left out.
    func tagCounts(of repositories: [RepositoryName], cappedAt cap: Int) async throws -> [RepositoryName: Int]

    /// Tags pointing at `digest`.
    func tags(pointingTo digest: Digest, in repository: RepositoryName) async throws -> [Tag]

    /// Deletes a tag; returns the digest it pointed at, `nil` when there was no such tag.
    @discardableResult
    func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Digest?

    // MARK: upload sessions

    func createUpload(_ id: String, in repository: RepositoryName) async throws

    func upload(_ id: String) async throws -> UploadRecord?

    @discardableResult
    func deleteUpload(_ id: String) async throws -> Bool
}

extension MetadataStore {
    /// Default: resolve the tag, then read the manifest.
    public func manifest(tagged tag: Tag, in repository: RepositoryName) async throws -> ManifestRecord? {
        guard let digest = try await resolveTag(tag, in: repository) else { return nil }
        return try await manifest(digest, in: repository)
    }
}
