import Foundation
public import KuraCore
public import KuraMetadata
public import KuraRegistry
public import Logging
import NIOCore
import Synchronization

/// Scans stored images and keeps the results in the catalog: queued scans (on push, see
/// ``ScanOnPushSink``) run in the background, at most `concurrency` at once, in ``run()``,
/// which the server's service group owns; manual scans run at once. Enqueuing never
/// waits, so a push never waits for a scan: the emitting operation (a manifest PUT) only
/// hands over a digest.
public final class ScanService: Sendable {
    public struct Settings: Sendable {
        /// Scans running at once.
        public var concurrency: Int
        /// Queued scans kept; beyond it new ones are dropped (logged; a manual scan catches up).
        public var queueCapacity: Int

        public init(concurrency: Int = 1, queueCapacity: Int = 10_000) {
            self.concurrency = concurrency
            self.queueCapacity = queueCapacity
        }
    }

    struct Job: Hashable, Sendable {
        var manifest: Digest
        var repository: RepositoryName
    }

    public let registry: Registry
    public let store: any ScanStore
    public let scanner: ImageScanner
    let settings: Settings
    let logger: Logger
    private let stream: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    /// Queued and not yet started: a manifest pushed twice in a row is scanned once.
    private let queued = Mutex<Set<Job>>([])

    public init(registry: Registry, store: any ScanStore, scanner: ImageScanner, settings: Settings = Settings(), logger: Logger) {
        self.registry = registry
        self.store = store
        self.scanner = scanner
        self.settings = settings
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .unbounded)
    }

    // MARK: the queue

    /// Queues a scan of `manifest` and returns at once.
    public func enqueue(_ manifest: Digest, in repository: RepositoryName) {
        let job = Job(manifest: manifest, repository: repository)
        let admitted = queued.withLock { queued in
            guard queued.count < settings.queueCapacity, !queued.contains(job) else { return false }
            queued.insert(job)
            return true
        }
        guard admitted else {
            logger.debug("scan not queued (queued already, or the queue is full)", metadata: ["manifest": "\(manifest)"])
            return
        }
        continuation.yield(job)
    }

    /// Scans queued in ``enqueue(_:in:)`` until the task is cancelled (the service group's
    /// shutdown); a scan in flight then ends with it.
    public func run() async {
        let concurrency = max(1, settings.concurrency)
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await job in stream {
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                _ = queued.withLock { $0.remove(job) }
                // An index's images were pushed (and queued) before it; an image pushed again
                // keeps its result.
                // Off the cooperative pool (see BackgroundScanExecutor): decompression must
                // not crowd out requests.
                group.addTask(executorPreference: BackgroundScanExecutor.shared, priority: .background) {
                    _ = await self.scanAndStore(job.manifest, in: job.repository, skippingScannedImages: true)
                }
                running += 1
            }
            group.cancelAll()
        }
    }

    // MARK: scanning

    /// Scans the manifest `reference` names now: an image gives one record, an index one per
    /// platform image. Each is stored (failures too, with their reason) and announced.
    public func scan(_ reference: Reference, in repository: RepositoryName) async throws -> [ScanRecord] {
        let record = try await registry.manifestRecord(reference, in: repository)
        return await scanAndStore(record.digest, in: repository)
    }

    /// The stored result of `manifest`, if it was scanned.
    public func result(of manifest: Digest) async throws -> StoredScan? {
        try await store.scan(of: manifest).map(StoredScan.init)
    }

    /// The stored results for a manifest of the repository: its own for an image (or an
    /// artifact), one per platform image for an index (`nil` where none is stored yet).
    /// Throws `MANIFEST_UNKNOWN` for a manifest the repository does not hold.
    public func results(for manifest: Digest, in repository: RepositoryName) async throws -> (isIndex: Bool, results: [(Digest, StoredScan?)]) {
        let (_, bytes) = try await registry.manifest(.digest(manifest), in: repository, announce: false)
        if case .index(let children)? = try? ImageManifestLayers.parse(Data(bytes.readableBytesView)) {
            var results: [(Digest, StoredScan?)] = []
            for child in children { results.append((child, try await result(of: child))) }
            return (true, results)
        }
        return (false, [(manifest, try await result(of: manifest))])
    }

    /// Matches every stored package list against the database as it is now (after an
    /// import) and announces the results whose findings changed. Reads no layer.
    public func rematchStored() async throws -> StoredScanRematcher.Summary {
        try await StoredScanRematcher(store: store, scanner: scanner).rematchAll(changed: { record in
            guard let repository = try? RepositoryName(parsing: record.repository) else { return }
            await self.announce(record, in: repository)
        })
    }

    /// Scans one manifest (each image of an index); with `skippingScannedImages`, an image
    /// that already has a succeeded result is not read again (a re-match keeps it current).
    /// Never throws: a failure is a record.
    @discardableResult
    func scanAndStore(_ manifest: Digest, in repository: RepositoryName, skippingScannedImages: Bool = false) async -> [ScanRecord] {
        let parsed: ImageManifestLayers.Parsed
        do {
            let (_, bytes) = try await registry.manifest(.digest(manifest), in: repository, announce: false)
            parsed = try ImageManifestLayers.parse(Data(bytes.readableBytesView))
        } catch let error as ScanError {
            return [await store(ScanRecord(
                manifest: manifest, repository: repository.value, status: .unsupported, reason: error.description, scannedAt: Date()), in: repository)]
        } catch {
            // Deleted since it was queued, or unreadable: nothing to record against.
            logger.notice("scan skipped: the manifest cannot be read", metadata: ["manifest": "\(manifest)", "error": "\(error)"])
            return []
        }
        switch parsed {
        case .image(let layers):
            // The same image pushed to another repository (or again) has the same packages.
            if skippingScannedImages, let stored = try? await store.scan(of: manifest), stored.status == .succeeded {
                return [stored]
            }
            return [await scanImage(manifest, layers: layers, in: repository)]
        case .index(let children):
            var records: [ScanRecord] = []
            for child in children where !Task.isCancelled {
                records += await scanAndStore(child, in: repository, skippingScannedImages: skippingScannedImages)
            }
            return records
        }
    }

    private func scanImage(_ manifest: Digest, layers: [Digest], in repository: RepositoryName) async -> ScanRecord {
        let registry = self.registry
        let record: ScanRecord
        do {
            let report = try await scanner.scan(manifest: manifest, layers: layers, open: { layer in
                try await registry.readBlob(layer, in: repository, range: nil).body
            })
            record = try StoredScan.record(report, manifest: manifest, repository: repository)
        } catch {
            record = ScanRecord(
                manifest: manifest, repository: repository.value, status: .failed, reason: Self.reason(error), scannedAt: Date())
        }
        return await store(record, in: repository)
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case let error as RegistryError: "\(error.code.rawValue): \(error.detail ?? error.message)"
        case let error as any CustomStringConvertible: error.description
        default: "\(error)"
        }
    }

    /// Stores the record and announces it (the `scan` webhook).
    private func store(_ record: ScanRecord, in repository: RepositoryName) async -> ScanRecord {
        do {
            try await store.putScan(record)
        } catch {
            logger.error("scan result not stored", metadata: ["manifest": "\(record.manifest)", "error": "\(error)"])
            return record
        }
        if record.status == .failed {
            logger.warning("scan failed", metadata: ["manifest": "\(record.manifest)", "repository": "\(repository)", "reason": "\(record.reason ?? "")"])
        }
        await announce(record, in: repository)
        return record
    }

    func announce(_ record: ScanRecord, in repository: RepositoryName) async {
        var summary: [String: Int64] = [:]
        if let report = try? StoredScan(record).report {
            let counts = report.summary
            summary = [
                "critical": Int64(counts.critical), "high": Int64(counts.high), "medium": Int64(counts.medium), "low": Int64(counts.low),
                "unknown": Int64(counts.unknown), "total": Int64(counts.total), "unfixed": Int64(counts.unfixed),
                "packages": Int64(report.packages.count),
            ]
            if let databaseImport = record.databaseImport { summary["databaseImport"] = databaseImport }
        }
        await registry.events.emit(
            RegistryEvent(
                .scanCompleted, repository: repository, reference: record.manifest.description, digest: record.manifest, actor: nil,
                job: "scan", summary: summary, detail: record.status == .succeeded ? nil : "\(record.status.rawValue): \(record.reason ?? "")"))
    }
}
