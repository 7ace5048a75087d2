public import AsyncHTTPClient
public import KuraCore
public import KuraRegistry
import KuraStorage
public import Logging
public import NIOCore
import Synchronization

/// The pull-through side of proxy namespaces: what a pull needs and the registry does not
/// have comes from the namespace's upstream, goes to the client at once, and is stored.
///
/// - A manifest is fetched (verified against its digest), answered, and stored in the
///   background once everything it names is here (blobs; for an index, every child).
/// - A blob is fetched once however many clients ask for it meanwhile (``BlobFill``); the
///   first clients get the bytes as they arrive, while they are being stored, with a bounded
///   window of them in memory (``fillMemory``). A range of a blob not here yet is served
///   once the blob is stored.
/// - A tag list merges the upstream's tags with the cached ones; the cached ones alone
///   answer when the upstream does not.
/// - A cached tag is trusted for the namespace's TTL, then checked against the upstream;
///   when the upstream does not answer, what is cached is served.
public final class PullThroughCache: Sendable {
    struct Upstream: Sendable {
        var settings: ProxyNamespace
        var client: RegistryClient
        /// For tag re-checks: one attempt, since a cached copy can answer instead.
        var checker: RegistryClient
    }

    let registry: Registry
    let upstreams: [String: Upstream]
    let logger: Logger
    let state = PullThroughState()
    /// Bytes the fills under way hold in memory for their clients.
    public let fillMemory = FillMemoryGauge()
    private let fetches = Mutex(0)

    /// The default client: a short connect timeout, so an upstream outage costs a pull
    /// seconds, not minutes (a refused connect is retried until the connect timeout).
    public static let upstreamHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(60))
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(registry: Registry, proxies: [ProxyNamespace], httpClient: HTTPClient = upstreamHTTPClient, logger: Logger) {
        self.registry = registry
        self.logger = logger
        var upstreams: [String: Upstream] = [:]
        for proxy in proxies {
            upstreams[proxy.namespace] = Upstream(
                settings: proxy, client: RegistryClient(endpoint: proxy.upstream, httpClient: httpClient, retry: RetryPolicy(attempts: 2)),
                checker: RegistryClient(endpoint: proxy.upstream, httpClient: httpClient, retry: RetryPolicy(attempts: 1)))
        }
        self.upstreams = upstreams
    }

    /// Blob fetches sent upstream so far (each blob once, however many clients wanted it).
    public var upstreamBlobFetches: Int { fetches.withLock { $0 } }

    /// Whether `repository` lies in a proxy namespace.
    public func covers(_ repository: RepositoryName) -> Bool { upstreams[String(repository.firstComponent)] != nil }

    private func upstream(_ repository: RepositoryName) -> Upstream? { upstreams[String(repository.firstComponent)] }

    // MARK: manifests

    /// A manifest to answer from the upstream, or nil when the local copy is to be served
    /// (it is here, and its tag is fresh or the upstream cannot say otherwise).
    public func manifest(_ reference: Reference, in repository: RepositoryName) async throws -> FetchedManifest? {
        guard let upstream = upstream(repository) else { return nil }
        let remote = upstream.settings.upstreamRepository(repository.value)
        let local = try? await registry.manifestRecord(reference, in: repository)
        let tagKey = "\(repository.value):\(reference)"
        if let local {
            guard case .tag(let tag) = reference else { return nil }
            if await state.isFresh(tagKey, ttl: upstream.settings.tagTTL) { return nil }
            let current: Digest?
            do {
                current = try await upstream.checker.manifestDigest(remote, reference: tag.value)
            } catch {
                logger.warning("upstream unreachable; serving the cached tag", metadata: ["repository": "\(repository)", "tag": "\(tag)", "error": "\(error)"])
                await state.checked(tagKey)
                return nil
            }
            if current == nil || current == local.digest {
                await state.checked(tagKey)
                return nil
            }
        }
        let fetched: FetchedManifest?
        do {
            fetched = try await upstream.client.manifest(remote, reference: reference.description)
        } catch {
            throw RegistryError(.manifestUnknown, "not cached, and the upstream did not answer", detail: "\(error)")
        }
        guard let fetched else { throw RegistryError(.manifestUnknown, detail: "\(repository):\(reference) (upstream has none)") }
        if reference.tag != nil { await state.checked(tagKey) }
        let work = "\(repository.value)@\(fetched.digest)"
        if await state.begin(work) {
            Task {
                do {
                    try await cache(fetched, tag: reference.tag, in: repository, upstream)
                } catch {
                    logger.warning("caching a proxied manifest failed", metadata: ["repository": "\(repository)", "digest": "\(fetched.digest)", "error": "\(error)"])
                }
                await state.end(work)
            }
        }
        return fetched
    }

    /// Stores a manifest after everything it names (so the catalog's rules hold).
    private func cache(_ manifest: FetchedManifest, tag: Tag?, in repository: RepositoryName, _ upstream: Upstream) async throws {
        let document = try manifest.document()
        if MediaType.indexTypes.contains(manifest.mediaType) || document.isIndex {
            for child in document.manifests ?? [] where (try? await registry.manifestRecord(.digest(child.digest), in: repository)) == nil {
                let remote = upstream.settings.upstreamRepository(repository.value)
                guard let fetched = try await upstream.client.manifest(remote, reference: child.digest.description) else {
                    throw MirrorError.invalidManifest("upstream lists \(child.digest) but has none")
                }
                try await cache(fetched, tag: nil, in: repository, upstream)
            }
        } else {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for blob in document.blobs {
                    group.addTask { try await self.ensureBlob(blob.digest, in: repository, upstream) }
                }
                try await group.waitForAll()
            }
        }
        _ = try await registry.putManifest(
            manifest.bytes, contentType: manifest.mediaType, reference: tag.map(Reference.tag) ?? .digest(manifest.digest), in: repository,
            announce: false)
    }

    // MARK: blobs

    /// A blob arriving from the upstream: its size and its bytes as they come. Nil when the
    /// local copy is to be served (it was here, or it was stored while this call waited).
    public func blob(_ digest: Digest, in repository: RepositoryName) async throws -> (size: Int64, body: AsyncThrowingStream<ByteBuffer, any Error>)? {
        guard let upstream = upstream(repository) else { return nil }
        if (try? await registry.blobInfo(digest, in: repository)) != nil { return nil }
        let fill = await fill(digest, in: repository, upstream)
        if let live = await fill.subscribe() { return live }
        try await Self.unknownUnlessStored { try await fill.stored() }
        return nil
    }

    /// Makes sure a blob of a proxy namespace is here: fetched from the upstream, or stored by
    /// the fill under way. For what is served from the stored copy only (ranges).
    public func storeBlob(_ digest: Digest, in repository: RepositoryName) async throws {
        guard let upstream = upstream(repository) else { return }
        try await Self.unknownUnlessStored { try await self.ensureBlob(digest, in: repository, upstream) }
    }

    private static func unknownUnlessStored(_ store: () async throws -> Void) async throws {
        do { try await store() } catch {
            throw RegistryError(.blobUnknown, "not cached, and fetching it from the upstream failed", detail: "\(error)")
        }
    }

    /// The size of a blob the upstream has (for HEAD), or nil when it is here or unknown there.
    public func blobSize(_ digest: Digest, in repository: RepositoryName) async throws -> Int64? {
        guard let upstream = upstream(repository) else { return nil }
        if (try? await registry.blobInfo(digest, in: repository)) != nil { return nil }
        return try? await upstream.client.blobSize(upstream.settings.upstreamRepository(repository.value), digest)
    }

    private func ensureBlob(_ digest: Digest, in repository: RepositoryName, _ upstream: Upstream) async throws {
        if (try? await registry.blobInfo(digest, in: repository)) != nil { return }
        try await fill(digest, in: repository, upstream).stored()
    }

    /// The fill of a blob: the one under way, or a new one started now.
    private func fill(_ digest: Digest, in repository: RepositoryName, _ upstream: Upstream) async -> BlobFill {
        let key = "\(repository.value)@\(digest)"
        let (fill, isNew) = await state.fill(key) {
            BlobFill(window: upstream.settings.fillWindow, stallTimeout: upstream.settings.stalledClientTimeout, gauge: fillMemory)
        }
        if isNew {
            fetches.withLock { $0 += 1 }
            Task {
                do {
                    let remote = upstream.settings.upstreamRepository(repository.value)
                    let download = try await upstream.client.openBlob(remote, digest)
                    guard let size = download.length else {
                        throw MirrorError.invalidManifest("upstream sent \(digest) without a length")
                    }
                    await fill.started(size: size)
                    // The store hashes the bytes and refuses them unless they match the digest
                    // and the size; the tee holds the last buffer back from clients until then.
                    let tee = FillTee(base: download.body, fill: fill, size: size, digest: digest)
                    _ = try await registry.uploadBlob(tee, digest: digest, length: size, into: repository, verified: { await fill.release() })
                    await fill.finish(.success(()))
                } catch {
                    logger.warning("fetching a proxied blob failed", metadata: ["digest": "\(digest)", "error": "\(error)"])
                    await fill.finish(.failure(error))
                }
                await state.removeFill(key)
            }
        }
        return fill
    }
}

/// The shared state of a ``PullThroughCache``: fills under way, manifests being stored,
/// and when each tag was last checked.
actor PullThroughState {
    private var fills: [String: BlobFill] = [:]
    private var working: Set<String> = []
    private var tagChecks: [String: ContinuousClock.Instant] = [:]

    func fill(_ key: String, make: () -> BlobFill) -> (BlobFill, Bool) {
        if let fill = fills[key] { return (fill, false) }
        let fill = make()
        fills[key] = fill
        return (fill, true)
    }

    func removeFill(_ key: String) { fills[key] = nil }

    /// Marks work as started; false when it already is.
    func begin(_ key: String) -> Bool { working.insert(key).inserted }
    func end(_ key: String) { working.remove(key) }

    func isFresh(_ tag: String, ttl: Duration) -> Bool {
        guard let checked = tagChecks[tag] else { return false }
        return ContinuousClock.now - checked < ttl
    }

    func checked(_ tag: String) { tagChecks[tag] = .now }
}
