public import Foundation
public import KuraCore
public import KuraMetadata
public import KuraStorage
public import Logging
public import NIOCore

/// The registry as a service: the rules of the OCI Distribution spec over the blob store
/// and the catalog, with no HTTP in it. The HTTP layer and the command-line jobs call it.
public final class Registry: Sendable {
    public let blobs: BlobStore
    public let catalog: Catalog
    public let limits: RegistryLimits
    /// When set, blob GETs are redirected to a URL of the storage backend valid this long
    /// (where the backend has such URLs: S3), so the bytes do not flow through Kura.
    public let pullRedirectExpiry: Duration?
    let logger: Logger
    /// Recently served manifests (immutable by digest), so hot tags skip the storage read.
    let manifestCache = ManifestCache(capacity: 32 << 20)
    /// Where operations announce what they did (audit, webhooks, replication…); sinks
    /// are registered at start.
    public let events = RegistryEvents()
    /// What a client's manifest read must pass (a namespace's scan policy…); registered at start.
    public let pullChecks = ManifestPullChecks()
    /// Tag and digest lookups, dropped on the catalog's change feed (see
    /// ``ManifestResolutionCache``), on one node and on many; kept `lookupCacheLifetime` at
    /// most (zero: not at all).
    let resolutions: ManifestResolutionCache

    public init(
        blobs: BlobStore, catalog: Catalog, limits: RegistryLimits = RegistryLimits(), pullRedirectExpiry: Duration? = nil,
        lookupCacheLifetime: Duration = .seconds(1), logger: Logger, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.blobs = blobs
        self.pullRedirectExpiry = pullRedirectExpiry
        self.catalog = catalog
        self.limits = limits
        self.logger = logger
        self.resolutions = ManifestResolutionCache(feed: catalog.changes, maxAge: lookupCacheLifetime, clock: clock)
    }

    /// Forgets the remembered tag and digest lookups of `repository`; every write to its
    /// manifests or tags calls this before it is acknowledged.
    func manifestsChanged(in repository: RepositoryName) {
        resolutions.invalidate(repository)
    }

    /// The smallest chunk the storage accepts except for the last (`OCI-Chunk-Min-Length`).
    public var minimumChunkLength: Int { blobs.backend.minimumPartSize }

    // MARK: blobs

    /// A blob of the repository, without reading it. Throws `BLOB_UNKNOWN`.
    public func blobInfo(_ digest: Digest, in repository: RepositoryName) async throws -> BlobInfo {
        guard let link = try await catalog.metadata.blobLink(digest, in: repository) else {
            throw RegistryError(.blobUnknown, detail: digest.description)
        }
        guard let info = try await blobs.stat(digest) else {
            logger.error("blob linked but missing from storage", metadata: ["digest": "\(digest)", "repository": "\(repository)"])
            throw RegistryError(.blobUnknown, detail: digest.description)
        }
        if info.size != link.size {
            logger.warning("blob size differs from its link", metadata: ["digest": "\(digest)"])
        }
        return info
    }

    /// Streams a blob of the repository, or a range of it.
    public func readBlob(_ digest: Digest, in repository: RepositoryName, range: Range<Int64>?) async throws -> BlobRead {
        guard try await catalog.metadata.blobLink(digest, in: repository) != nil else {
            throw RegistryError(.blobUnknown, detail: digest.description)
        }
        return try await blobs.read(digest, range: range)
    }

    /// Streams a blob that ``blobInfo(_:in:)`` just found linked, without asking the
    /// catalog again (a blob GET would otherwise query it twice).
    public func readBlob(_ info: BlobInfo, range: Range<Int64>?) async throws -> BlobRead {
        try await blobs.read(info.digest, range: range)
    }

    /// Where to send a client for the bytes of a blob that ``blobInfo(_:in:)`` just found,
    /// when pulls are redirected and the backend can hand out URLs; `nil` to serve it here.
    public func pullRedirect(for info: BlobInfo) async throws -> URL? {
        guard let expiry = pullRedirectExpiry else { return nil }
        return try await blobs.directReadURL(for: info.digest, expires: expiry)
    }

    /// Removes the blob from the repository. The bytes go when garbage collection finds
    /// nothing else referring to them.
    public func deleteBlob(_ digest: Digest, in repository: RepositoryName) async throws {
        guard try await catalog.metadata.unlinkBlob(digest, from: repository) else {
            throw RegistryError(.blobUnknown, detail: digest.description)
        }
        await events.emit(RegistryEvent(.blobDelete, repository: repository, digest: digest))
    }

    /// Makes a blob that another repository holds readable in `repository` without an
    /// upload. With `from`, only that repository is considered; without, any repository.
    /// Returns `nil` when the blob cannot be mounted (the caller then opens an upload).
    /// `mayRead` says whether the caller may read a candidate source (access control).
    public func mountBlob(
        _ digest: Digest, into repository: RepositoryName, from source: RepositoryName?,
        mayRead: @Sendable (RepositoryName) async throws -> Bool = { _ in true }
    ) async throws -> BlobInfo? {
        var found = false
        if let source {
            if try await catalog.metadata.blobLink(digest, in: source) != nil { found = try await mayRead(source) }
        } else {
            for candidate in try await catalog.metadata.repositoriesLinking(digest, limit: 100) where try await mayRead(candidate) {
                found = true
                break
            }
        }
        guard found, let info = try await blobs.stat(digest) else { return nil }
        try await checkQuota(storing: digest, size: info.size, in: repository)
        guard try await linkStoredBlob(info, in: repository) else { return nil }
        await events.emit(RegistryEvent(.blobMount, repository: repository, digest: digest, detail: source?.value))
        return info
    }

    // MARK: uploads

    /// Stores a whole blob sent in one request (`POST ?digest=`). `verified` runs once the
    /// bytes match the digest and the length, before the blob is kept (``BlobStore/ingest(_:expected:expectedLength:algorithm:verified:)``).
    public func uploadBlob<Body: AsyncSequence & Sendable>(
        _ body: Body, digest: Digest, length: Int64?, into repository: RepositoryName, verified: (@Sendable () async -> Void)? = nil
    ) async throws -> BlobInfo where Body.Element == ByteBuffer {
        try checkBlobLength(length)
        // With the length known, an upload over the quota is refused before any byte is stored.
        if let length { try await checkQuota(storing: digest, size: length, in: repository) }
        let info = try await blobs.ingest(limited(body), expected: digest, expectedLength: length, verified: verified)
        // Refused over the quota when linked: the object, stored but never linked, is removed
        // by garbage collection.
        try await linkUploadedBlob(info, in: repository)
        return info
    }

    /// Opens an upload session in the repository.
    public func startUpload(in repository: RepositoryName, algorithm: DigestAlgorithm? = nil) async throws -> UploadStatus {
        let status = try await blobs.startUpload(algorithm: algorithm)
        try await catalog.metadata.createUpload(status.id.value, in: repository)
        return status
    }

    /// The session's offset. Throws `BLOB_UPLOAD_UNKNOWN`, also for a session of another
    /// repository.
    public func uploadStatus(_ id: String, in repository: RepositoryName) async throws -> UploadStatus {
        try await blobs.uploadStatus(try await session(id, in: repository))
    }

    /// Appends a chunk. `start` is where the client says it starts (`Content-Range`);
    /// a chunk elsewhere than the session's offset is refused with 416 and changes nothing.
    public func appendUpload<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, start: Int64?, length: Int64?, body: Body
    ) async throws -> UploadStatus where Body.Element == ByteBuffer {
        let upload = try await session(id, in: repository)
        // Decided before any byte is read, so a client waiting on `Expect: 100-continue` is
        // refused without sending the chunk.
        try checkBlobLength(length)
        try checkBlobEnd(start: start, length: length)
        return try await blobs.appendUpload(upload, at: start, expectedLength: length, body: limited(body))
    }

    /// Completes a session as `digest`, after an optional last chunk, and links the blob.
    public func completeUpload<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, digest: Digest, start: Int64?, length: Int64?, lastChunk: Body?
    ) async throws -> BlobInfo where Body.Element == ByteBuffer {
        let upload = try await session(id, in: repository)
        try checkBlobLength(length)
        try checkBlobEnd(start: start, length: length)
        let limit = try await quotaLimit(for: repository)
        // With the last chunk's length known, so is the blob's size: a session already over
        // the quota is refused before the commit and cancelled, its bytes deleted.
        let sizeKnown = length != nil || lastChunk == nil
        if let limit, sizeKnown {
            let offset = try await blobs.uploadStatus(upload).offset
            do {
                // Both numbers are the client's: a sum past Int64 cannot fit any quota.
                let (size, overflow) = offset.addingReportingOverflow(length ?? 0)
                try await checkQuota(storing: digest, size: overflow ? .max : size, in: repository, limit: limit)
            } catch {
                _ = try? await cancelUpload(id, in: repository)
                throw error
            }
        }
        let info = try await blobs.commitUpload(
            upload, expected: digest, lastChunk: lastChunk.map { limited($0) }, lastChunkOffset: start, expectedLength: length)
        do {
            // The session's catalog row ends in the same write as the link.
            try await linkUploadedBlob(info, in: repository, endingUpload: upload)
        } catch {
            // The session is spent either way; a blob refused here (over the quota) is
            // stored but never linked, and garbage collection removes the object.
            _ = try? await catalog.metadata.deleteUpload(id)
            throw error
        }
        return info
    }

    /// Cancels a session and deletes its bytes.
    public func cancelUpload(_ id: String, in repository: RepositoryName) async throws {
        let upload = try await session(id, in: repository)
        do {
            try await blobs.cancelUpload(upload)
        } catch let error as RegistryError where error.code == .blobUploadUnknown {
            // The storage side is already gone; drop the catalog row below.
        }
        try await catalog.metadata.deleteUpload(id)
    }

    private func session(_ id: String, in repository: RepositoryName) async throws -> UploadID {
        guard let upload = UploadID(id), let record = try await catalog.metadata.upload(upload.value), record.repository == repository else {
            throw RegistryError(.blobUploadUnknown, detail: id)
        }
        return upload
    }

    private func checkBlobLength(_ length: Int64?) throws {
        if let length, length < 0 { throw RegistryError(.sizeInvalid, detail: "negative length") }
        if let length, let max = limits.maxBlobBytes, length > max {
            throw RegistryError(.sizeInvalid, "blob too large", detail: "limit is \(max) bytes")
        }
    }

    /// A chunk at `start` of `length` bytes must not end past the blob limit.
    private func checkBlobEnd(start: Int64?, length: Int64?) throws {
        guard let start, let length else { return }
        let (end, overflow) = start.addingReportingOverflow(length)
        if overflow { throw RegistryError(.sizeInvalid, "blob too large", detail: "the chunk ends past \(Int64.max)") }
        try checkBlobLength(end)
    }

    private func limited<Body: AsyncSequence & Sendable>(_ body: Body) -> SizeLimitedBody<Body> where Body.Element == ByteBuffer {
        SizeLimitedBody(base: body, limit: limits.maxBlobBytes)
    }

    // MARK: manifests

    /// What a manifest PUT produced.
    public struct PutManifestResult: Sendable {
        public var digest: Digest
        public var subject: Digest?
    }

    /// Validates and stores a manifest byte-exact; tags it when `reference` is a tag.
    /// `announce: false` stores without a ``RegistryEvent`` (a pull-through cache filling
    /// itself is not a push).
    public func putManifest(
        _ bytes: ByteBuffer, contentType: String?, reference: Reference, in repository: RepositoryName,
        additionalTags: [Tag] = [], announce: Bool = true
    ) async throws -> PutManifestResult {
        guard bytes.readableBytes <= limits.maxManifestBytes else {
            throw RegistryError(
                .manifestInvalid, "manifest too large", detail: "limit is \(limits.maxManifestBytes) bytes", status: 413)
        }
        let view = bytes.readableBytesView
        let digest: Digest
        switch reference {
        case .digest(let expected):
            digest = ContentHasher.digest(expected.algorithm, of: view)
            guard digest == expected else {
                throw RegistryError(.digestInvalid, detail: "manifest has digest \(digest), not \(expected)")
            }
        case .tag:
            digest = ContentHasher.digest(.sha256, of: view)
        }
        let manifest = try ManifestParser.parse(view, contentType: contentType)
        try await checkReferences(of: manifest, in: repository)
        try await checkQuota(storing: digest, size: Int64(bytes.readableBytes), in: repository)

        _ = try await blobs.ingest(bytes: bytes, expected: digest)
        let record = ManifestRecord(
            digest: digest, mediaType: manifest.mediaType, size: Int64(bytes.readableBytes),
            artifactType: manifest.artifactType, subject: manifest.subject, annotations: manifest.annotations)
        do {
            // Also when a later tag fails: the first may be stored.
            defer { manifestsChanged(in: repository) }
            try await storeManifestGuarded {
                try await putManifestWithinQuota(record, references: manifest.references, in: repository, tag: reference.tag)
                // The manifest is stored now: more tags on it add no bytes.
                for tag in additionalTags where tag != reference.tag {
                    try await catalog.metadata.putManifest(record, references: manifest.references, in: repository, tag: tag)
                }
            }
        }
        try await ensureManifestStored(digest, bytes: bytes)
        if announce {
            let tags = additionalTags.filter { $0 != reference.tag }.map(\.value)
            await events.emit(
                RegistryEvent(.manifestPush, repository: repository, reference: reference.description, digest: digest,
                              detail: tags.isEmpty ? nil : tags.joined(separator: ",")))
        }
        return PutManifestResult(digest: digest, subject: manifest.subject)
    }

    private func checkReferences(of manifest: ParsedManifest, in repository: RepositoryName) async throws {
        for blob in manifest.blobs where !blob.mayBeExternal {
            guard let link = try await catalog.metadata.blobLink(blob.digest, in: repository) else {
                throw RegistryError(.manifestBlobUnknown, detail: blob.digest.description)
            }
            if link.size != blob.size {
                throw RegistryError(
                    .manifestInvalid, "descriptor size does not match the blob",
                    detail: "\(blob.digest) has \(link.size) bytes, descriptor says \(blob.size)")
            }
        }
        for child in manifest.children {
            guard let stored = try await catalog.metadata.manifest(child.digest, in: repository) else {
                throw RegistryError(.manifestBlobUnknown, "index refers to a manifest unknown to the repository", detail: child.digest.description)
            }
            if stored.size != child.size {
                throw RegistryError(
                    .manifestInvalid, "descriptor size does not match the manifest",
                    detail: "\(child.digest) has \(stored.size) bytes, descriptor says \(child.size)")
            }
        }
    }

    /// The catalog record of a manifest, by tag or digest. Throws `MANIFEST_UNKNOWN`.
    public func manifestRecord(_ reference: Reference, in repository: RepositoryName) async throws -> ManifestRecord {
        if let record = resolutions.lookup(reference, in: repository) { return record }
        let stamp = resolutions.stamp(repository)
        let record = try await catalogManifestRecord(reference, in: repository)
        resolutions.store(record, for: reference, in: repository, stamp: stamp)
        return record
    }

    private func catalogManifestRecord(_ reference: Reference, in repository: RepositoryName) async throws -> ManifestRecord {
        switch reference {
        case .digest(let digest):
            guard let record = try await catalog.metadata.manifest(digest, in: repository) else {
                throw RegistryError(.manifestUnknown, detail: "\(repository)@\(digest)")
            }
            return record
        case .tag(let tag):
            guard let record = try await catalog.metadata.manifest(tagged: tag, in: repository) else {
                throw RegistryError(.manifestUnknown, detail: "\(repository):\(tag)")
            }
            return record
        }
    }

    /// A manifest's record and its exact bytes. `announce: false` reads it for the
    /// registry's own work (a scan): no pull event, no pull checks.
    public func manifest(_ reference: Reference, in repository: RepositoryName, announce: Bool = true) async throws -> (ManifestRecord, ByteBuffer) {
        let record = try await manifestRecord(reference, in: repository)
        if announce { try await pullChecks.check(record, in: repository) }
        if let cached = manifestCache.get(record.digest) {
            if announce {
                await events.emit(RegistryEvent(.manifestPull, repository: repository, reference: reference.description, digest: record.digest))
            }
            return (record, cached)
        }
        do {
            let bytes = try await blobs.backend.getAll(ObjectKey(blob: record.digest), limit: max(limits.maxManifestBytes, Int(record.size)))
            manifestCache.put(record.digest, bytes)
            if announce {
                await events.emit(RegistryEvent(.manifestPull, repository: repository, reference: reference.description, digest: record.digest))
            }
            return (record, bytes)
        } catch StorageError.notFound {
            logger.error("manifest in catalog but missing from storage", metadata: ["digest": "\(record.digest)"])
            throw RegistryError(.manifestUnknown, detail: record.digest.description)
        }
    }

    /// Deletes a tag (by tag) or a manifest and all its tags (by digest); returns the digest
    /// of the manifest the tag pointed at, or the one deleted.
    @discardableResult
    public func deleteManifest(_ reference: Reference, in repository: RepositoryName) async throws -> Digest {
        switch reference {
        case .tag(let tag):
            guard let digest = try await catalog.metadata.deleteTag(tag, in: repository) else {
                throw RegistryError(.manifestUnknown, detail: "\(repository):\(tag)")
            }
            manifestsChanged(in: repository)
            await events.emit(RegistryEvent(.tagDelete, repository: repository, reference: tag.value, digest: digest))
            return digest
        case .digest(let digest):
            guard try await catalog.metadata.deleteManifest(digest, in: repository) else {
                throw RegistryError(.manifestUnknown, detail: "\(repository)@\(digest)")
            }
            manifestsChanged(in: repository)
            await events.emit(RegistryEvent(.manifestDelete, repository: repository, reference: digest.description, digest: digest))
            return digest
        }
    }

    /// Deletes a repository from the catalog: its tags, manifests and blob links (the bytes
    /// go at the next garbage collection). Returns whether it existed.
    @discardableResult
    public func deleteRepository(_ repository: RepositoryName) async throws -> Bool {
        defer { manifestsChanged(in: repository) }
        return try await catalog.metadata.deleteRepository(repository)
    }

    // MARK: listing

    /// A page of the repository's tags. Throws `NAME_UNKNOWN` for a repository that does
    /// not exist.
    public func tags(in repository: RepositoryName, after: String?, limit: Int?) async throws -> [Tag] {
        guard try await catalog.metadata.repositoryExists(repository) else {
            throw RegistryError(.nameUnknown, detail: repository.value)
        }
        let count = min(limit ?? limits.maxPageSize, limits.maxPageSize)
        if count <= 0 { return [] }
        return try await catalog.metadata.tags(in: repository, after: after, limit: count)
    }

    /// A page of repository names: those holding a manifest (see
    /// ``MetadataStore/listedRepositories(after:limit:)``).
    public func repositories(after: String?, limit: Int?) async throws -> [RepositoryName] {
        let count = min(limit ?? limits.maxPageSize, limits.maxPageSize)
        if count <= 0 { return [] }
        return try await catalog.metadata.listedRepositories(after: after, limit: count)
    }

    /// A page of the repository names a caller may see: the catalog is read in batches
    /// until `limit` names pass `isVisible` (or the catalog ends).
    public func repositories(
        after: String?, limit: Int, isVisible: (RepositoryName) async throws -> Bool
    ) async throws -> [RepositoryName] {
        var page: [RepositoryName] = []
        var cursor = after
        while page.count < limit {
            let batch = try await catalog.metadata.listedRepositories(after: cursor, limit: 1000)
            for name in batch where page.count < limit {
                if try await isVisible(name) { page.append(name) }
            }
            guard batch.count == 1000, let end = batch.last else { break }
            cursor = end.value
        }
        return page
    }

    /// The referrers of `subject` in the repository, as an OCI index.
    public func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws -> ReferrersIndex {
        let records = try await catalog.metadata.referrers(of: subject, in: repository, artifactType: artifactType)
        return try ReferrersIndex(referrers: records, filteredByArtifactType: artifactType != nil)
    }
}
