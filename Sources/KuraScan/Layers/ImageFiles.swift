import Foundation
public import KuraCore
public import KuraStorage

/// The files detectors asked for, as the image's final filesystem shows them: layers
/// applied bottom to top, each layer's whiteouts and opaque directories removing what
/// the layers below it hold.
public struct ImageFiles: Sendable {
    public private(set) var files: [String: ImageFile] = [:]

    public init() {}

    public subscript(path: String) -> ImageFile? { files[path] }

    /// The file at `path`, following symbolic links (relative or absolute) a few times.
    public func resolving(_ path: String) -> ImageFile? {
        var current = path
        for _ in 0..<8 {
            guard let file = files[current] else { return nil }
            guard case .symbolicLink(let target) = file.content else { return file }
            let parent = current.split(separator: "/").dropLast().joined(separator: "/")
            current = TarPath.clean(target.hasPrefix("/") ? target : parent + "/" + target)
        }
        return nil
    }

    /// Applies one layer on top of what is already there.
    mutating func apply(_ layer: LayerContents) {
        for directory in layer.opaqueDirectories {
            removeTree(directory, keepingDirectory: true)
        }
        for path in layer.whiteouts {
            removeTree(path, keepingDirectory: false)
        }
        for path in layer.replaced {
            files[path] = nil
        }
        files.merge(layer.files) { _, upper in upper }
    }

    private mutating func removeTree(_ path: String, keepingDirectory: Bool) {
        if path.isEmpty {
            files.removeAll()
            return
        }
        if !keepingDirectory { files[path] = nil }
        let prefix = path + "/"
        for key in files.keys where key.hasPrefix(prefix) { files[key] = nil }
    }
}

/// Reads an image's layers in order into ``ImageFiles``.
public struct ImageFileCollector: Sendable {
    public struct Statistics: Sendable, Equatable, Codable {
        public var layers = 0
        public var compressedBytes: Int64 = 0
        public var uncompressedBytes: Int64 = 0
        public var entries = 0
    }

    /// A layer that could not be read, and why.
    public struct LayerFailure: Error, Equatable, CustomStringConvertible {
        public let layerIndex: Int
        public let digest: Digest
        public let reason: LayerReadError

        public var description: String { "layer \(layerIndex) (\(digest)): \(reason)" }
    }

    public let limits: LayerLimits

    public init(limits: LayerLimits = LayerLimits()) {
        self.limits = limits
    }

    /// `open` streams a layer blob; `interest` says which entries detectors want.
    public func collect(
        layers: [Digest], open: @escaping @Sendable (Digest) async throws -> ObjectBody,
        interest: @escaping @Sendable (TarEntry) -> FileInterest
    ) async throws -> (ImageFiles, Statistics) {
        // Layers are read concurrently (decompression is most of the work), a few at a time,
        // then applied bottom to top.
        let reader = LayerReader(limits: limits)
        let limits = self.limits
        // No layers (a config-only image): nothing to start.
        let width = min(layers.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        var results = [LayerReader.Result?](repeating: nil, count: layers.count)
        try await withThrowingTaskGroup(of: (Int, LayerReader.Result).self) { group in
            func start(_ index: Int) {
                let digest = layers[index]
                group.addTask {
                    let collector = LayerFileCollector(layerIndex: index, limits: limits, interest: interest)
                    do {
                        return (index, try await reader.read(try await open(digest), collector: collector))
                    } catch let error as LayerReadError {
                        throw LayerFailure(layerIndex: index, digest: digest, reason: error)
                    }
                }
            }
            var next = 0
            while next < width {
                start(next)
                next += 1
            }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < layers.count {
                    start(next)
                    next += 1
                }
            }
        }
        var image = ImageFiles()
        var statistics = Statistics()
        for result in results {
            guard let result else { continue }
            image.apply(result.contents)
            statistics.layers += 1
            statistics.compressedBytes += result.compressedBytes
            statistics.uncompressedBytes += result.uncompressedBytes
            statistics.entries += result.contents.entryCount
        }
        return (image, statistics)
    }
}
