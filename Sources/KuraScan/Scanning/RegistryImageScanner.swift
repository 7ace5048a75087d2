public import Foundation
public import KuraCore
public import KuraRegistry
import NIOCore

/// Scans images stored in the registry: an image manifest directly, an index through each
/// of its platform images. Layers are streamed from storage; nothing is written.
public struct RegistryImageScanner: Sendable {
    public let registry: Registry
    public let scanner: ImageScanner

    public init(registry: Registry, scanner: ImageScanner) {
        self.registry = registry
        self.scanner = scanner
    }

    /// One report per image manifest reached from `reference`.
    public func scan(_ reference: Reference, in repository: RepositoryName, now: Date = Date()) async throws -> [ScanReport] {
        let (record, bytes) = try await registry.manifest(reference, in: repository, announce: false)
        switch try ImageManifestLayers.parse(Data(bytes.readableBytesView)) {
        case .image(let layers):
            return [try await scanImage(record.digest, layers: layers, in: repository, now: now)]
        case .index(let children):
            var reports: [ScanReport] = []
            for child in children {
                let (childRecord, childBytes) = try await registry.manifest(.digest(child), in: repository, announce: false)
                guard case .image(let layers) = try ImageManifestLayers.parse(Data(childBytes.readableBytesView)) else {
                    throw ScanError.notAnImage("index \(record.digest) nests another index")
                }
                reports.append(try await scanImage(childRecord.digest, layers: layers, in: repository, now: now))
            }
            return reports
        }
    }

    private func scanImage(_ digest: Digest, layers: [Digest], in repository: RepositoryName, now: Date) async throws -> ScanReport {
        let registry = self.registry
        return try await scanner.scan(manifest: digest, layers: layers, open: { layer in
            try await registry.readBlob(layer, in: repository, range: nil).body
        }, now: now)
    }
}
