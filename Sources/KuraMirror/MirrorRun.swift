import KuraCore
import KuraStorage
import NIOCore

/// The steps of one mirror run, sharing its ledger, transfer permits and rate limiter.
struct MirrorRun: Sendable {
    let source: RegistryClient
    let target: RegistryClient
    let options: MirrorOptions
    let ledger: MirrorLedger
    let transfers: AsyncPermits
    let limiter: ByteRateLimiter?
    let progress: @Sendable (MirrorEvent) -> Void

    /// Referrers of referrers are followed this deep (a signature on an SBOM on an image).
    static let referrerDepth = 3

    /// A source repository and where it goes.
    struct Route: Sendable {
        var source: String
        var target: String
    }

    func copyRepository(_ name: String) async {
        let route = Route(source: name, target: options.targetRepository(name))
        let tags: [String]
        do {
            tags = try await source.tags(name).filter(options.tags.matches).sorted()
        } catch {
            await fail(route, nil, error)
            return
        }
        await ledger.update(name) { _ in }  // listed in the summary even when nothing needs copying
        progress(.repositoryStarted(repository: name, tags: tags))
        for tag in tags {
            do {
                try await copyTag(tag, route)
            } catch {
                await fail(route, tag, error)
            }
        }
        progress(.repositoryFinished(repository: name, counts: await ledger.counts(of: name)))
    }

    private func fail(_ route: Route, _ reference: String?, _ error: any Error) async {
        let failure = MirrorFailure(repository: route.source, reference: reference, message: "\(error)")
        await ledger.fail(failure)
        progress(.failed(failure))
    }

    /// A tag: skipped when the target's tag already names the same digest (its referrers are
    /// still looked at, new ones may have come), else copied with all it needs, then tagged.
    func copyTag(_ tag: String, _ route: Route) async throws {
        guard var manifest = try await source.manifest(route.source, reference: tag) else {
            throw MirrorError.invalidManifest("tag \(tag) vanished from the source")
        }
        var children: [ContentDescriptor]?
        if !options.platforms.isEmpty, MediaType.indexTypes.contains(manifest.mediaType) {
            let (narrowed, kept) = try PlatformSelection.narrow(manifest, to: options.platforms)
            guard !kept.isEmpty else {
                throw MirrorError.invalidArgument("no platform of \(tag) matches \(options.platforms.map(\.description))")
            }
            manifest = narrowed
            children = kept
        }
        if try await target.manifestDigest(route.target, reference: tag) == manifest.digest {
            await skippedManifest(route, tag, manifest.digest)
            if options.copyReferrers { try await copyReferrers(of: manifest.digest, route, depth: 0) }
            return
        }
        try await copyManifest(manifest, route, reference: tag, children: children, depth: 0)
    }

    /// A manifest and everything below it, then the manifest itself (so the target never
    /// holds a manifest whose content is missing), then its referrers.
    func copyManifest(_ manifest: FetchedManifest, _ route: Route, reference: String, children: [ContentDescriptor]? = nil, depth: Int) async throws {
        let document = try manifest.document()
        if MediaType.indexTypes.contains(manifest.mediaType) || document.isIndex {
            for child in children ?? document.manifests ?? [] {
                try await copyChild(child, route, depth: depth)
            }
        } else {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for blob in document.blobs {
                    group.addTask { try await copyBlob(blob, route) }
                }
                try await group.waitForAll()
            }
        }
        if !options.dryRun {
            try await target.putManifest(manifest, to: route.target, reference: reference)
        }
        await ledger.update(route.source) {
            $0.manifestsCopied += 1
            $0.bytesCopied += Int64(manifest.bytes.readableBytes)
        }
        progress(.manifestCopied(repository: route.source, reference: reference, digest: manifest.digest.description, bytes: manifest.bytes.readableBytes))
        if options.copyReferrers { try await copyReferrers(of: manifest.digest, route, depth: depth) }
    }

    /// A manifest named by digest (an index entry or a referrer), unless the target has it.
    private func copyChild(_ descriptor: ContentDescriptor, _ route: Route, depth: Int) async throws {
        let reference = descriptor.digest.description
        if try await target.manifestDigest(route.target, reference: reference) != nil {
            await skippedManifest(route, reference, descriptor.digest)
            return
        }
        guard let child = try await source.manifest(route.source, reference: reference) else {
            throw MirrorError.invalidManifest("\(reference) is listed but missing on the source")
        }
        try await copyManifest(child, route, reference: reference, depth: depth)
    }

    private func copyReferrers(of subject: Digest, _ route: Route, depth: Int) async throws {
        guard depth < Self.referrerDepth else { return }
        for referrer in try await source.referrers(route.source, of: subject) {
            try await copyChild(referrer, route, depth: depth + 1)
        }
    }

    private func skippedManifest(_ route: Route, _ reference: String, _ digest: Digest) async {
        await ledger.update(route.source) { $0.manifestsSkipped += 1 }
        progress(.manifestSkipped(repository: route.source, reference: reference, digest: digest.description))
    }

    /// A blob, once per target repository and run.
    func copyBlob(_ blob: ContentDescriptor, _ route: Route) async throws {
        try await ledger.once("\(route.target)@\(blob.digest)") {
            try await transfers.withPermit { try await transferBlob(blob, route) }
        }
    }

    /// HEAD on the target first; then a mount from another target repository that has it;
    /// then the bytes, streamed from the source's GET into the target's upload, verified on
    /// the way. A broken transfer is tried again from the start.
    private func transferBlob(_ blob: ContentDescriptor, _ route: Route) async throws {
        let digest = blob.digest
        if try await target.blobExists(route.target, digest, scopes: [RegistryClient.push(route.target)]) {
            await ledger.hold(digest, in: route.target)
            await ledger.update(route.source) {
                $0.blobsSkipped += 1
                $0.bytesSkipped += blob.size
            }
            progress(.blobSkipped(repository: route.source, digest: digest.description))
            return
        }
        let mountFrom = await ledger.holder(of: digest, excluding: route.target)
        if options.dryRun {
            await ledger.update(route.source) {
                $0.blobsCopied += 1
                $0.bytesCopied += blob.size
            }
            progress(.blobCopied(repository: route.source, digest: digest.description, bytes: blob.size))
            return
        }
        let mounted = try await source.retry.run { () async throws -> Bool in
            let start = try await target.startUpload(route.target, digest: digest, mountFrom: mountFrom)
            guard case .session(let location, let minimumChunk) = start else { return true }
            let download = try await source.openBlob(route.source, digest)
            if let length = download.length, length != blob.size {
                throw MirrorError.sizeMismatch(digest: digest.description, expected: blob.size, actual: length)
            }
            var pacing: (@Sendable (ByteBuffer) async throws -> Void)?
            if let limiter { pacing = { try await limiter.take($0.readableBytes) } }
            let bytes = DigestVerifyingSequence(download.body, digest: digest, size: blob.size, hooks: .init(handingOn: pacing))
            try await target.upload(bytes, size: blob.size, digest: digest, repository: route.target, location: location, minimumChunk: minimumChunk)
            return false
        }
        await ledger.hold(digest, in: route.target)
        await ledger.update(route.source) {
            if mounted {
                $0.blobsMounted += 1
                $0.bytesSkipped += blob.size
            } else {
                $0.blobsCopied += 1
                $0.bytesCopied += blob.size
            }
        }
        if mounted, let mountFrom {
            progress(.blobMounted(repository: route.source, digest: digest.description, from: mountFrom))
        } else {
            progress(.blobCopied(repository: route.source, digest: digest.description, bytes: blob.size))
        }
    }
}
