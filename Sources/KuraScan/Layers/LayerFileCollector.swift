/// The ``TarVisitor`` for one layer: keeps the files detectors asked for, notes whiteouts.
struct LayerFileCollector: TarVisitor {
    let layerIndex: Int
    let limits: LayerLimits
    let interest: (TarEntry) -> FileInterest

    private(set) var contents = LayerContents()
    /// The entry whose content is arriving, and where it goes: `buffer`, or `scanner` if set.
    private var current: TarEntry?
    private var buffer: [UInt8] = []
    private var scanner: GoBuildInfoScanner?

    init(layerIndex: Int, limits: LayerLimits, interest: @escaping (TarEntry) -> FileInterest) {
        self.layerIndex = layerIndex
        self.limits = limits
        self.interest = interest
    }

    mutating func entryStarted(_ entry: TarEntry) throws -> Bool {
        contents.entryCount += 1
        switch Whiteout.effect(of: entry.path) {
        case .remove(let path)?:
            contents.whiteouts.append(path)
            return false
        case .opaque(let directory)?:
            contents.opaqueDirectories.append(directory)
            return false
        case nil:
            break
        }
        let wanted = interest(entry)
        switch (wanted, entry.kind) {
        case (.linkTarget, .symbolicLink(let target)), (.content, .symbolicLink(let target)):
            contents.files[entry.path] = ImageFile(path: entry.path, layerIndex: layerIndex, content: .symbolicLink(target: target))
            return false
        case (.content, .regular):
            guard entry.size <= Int64(limits.maximumFileSize) else {
                contents.files[entry.path] = ImageFile(path: entry.path, layerIndex: layerIndex, content: .tooLarge(size: entry.size))
                return false
            }
            buffer = []
            buffer.reserveCapacity(Int(entry.size))
            current = entry
            return true
        case (.goBuildInfo, .regular):
            scanner = GoBuildInfoScanner()
            current = entry
            return true
        default:
            // Not read, yet it hides whatever a lower layer had at a path a detector would read
            // (layers are read concurrently, so which lower files exist is not known here).
            let asFile = TarEntry(path: entry.path, kind: .regular, size: Int64(limits.maximumFileSize), mode: 0o755)
            if interest(asFile) != .none { contents.replaced.append(entry.path) }
            return false
        }
    }

    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws {
        if scanner != nil {
            scanner!.consume(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    mutating func entryFinished() throws {
        guard let entry = current else { return }
        let content: ImageFile.Content
        if var scanner {
            scanner.finish()
            content = .goBuildInfo(scanner.buildInfo)
        } else {
            content = .bytes(buffer)
        }
        contents.files[entry.path] = ImageFile(path: entry.path, layerIndex: layerIndex, content: content)
        current = nil
        scanner = nil
        buffer = []
    }
}
