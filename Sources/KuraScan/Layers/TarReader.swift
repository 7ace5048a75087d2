/// What a ``TarReader`` tells as it goes: each entry, and the content of those the
/// visitor asks for.
protocol TarVisitor {
    /// A new entry; return true to receive its content.
    mutating func entryStarted(_ entry: TarEntry) throws -> Bool
    mutating func entryContent(_ bytes: UnsafeRawBufferPointer) throws
    mutating func entryFinished() throws
}

/// A streaming tar parser (ustar, GNU and PAX), fed decompressed bytes in chunks of any
/// size. It holds at most one header or one metadata record in memory; entry content is
/// passed through to the visitor or skipped. Bounds from ``LayerLimits`` turn tar bombs
/// into errors.
struct TarReader {
    private enum State {
        case header
        case content(remaining: Int64, wanted: Bool)
        case metadata(kind: UInt8, remaining: Int)
        case padding(remaining: Int)
        case end
    }

    private let limits: LayerLimits
    private var state = State.header
    private var block: [UInt8] = []
    private var metadata: [UInt8] = []
    /// Padding owed after the current content, to the next 512-byte boundary.
    private var pendingPadding = 0
    private var zeroBlocks = 0
    private var entries = 0
    private(set) var totalBytes: Int64 = 0

    // Overrides for the next entry, from PAX records or GNU long-name entries.
    private var nextPath: String?
    private var nextLinkPath: String?
    private var nextSize: Int64?

    init(limits: LayerLimits) {
        self.limits = limits
        block.reserveCapacity(512)
    }

    mutating func feed(_ input: UnsafeRawBufferPointer, visitor: inout some TarVisitor) throws {
        totalBytes += Int64(input.count)
        if totalBytes > limits.maximumUncompressedSize {
            throw LayerReadError.limitExceeded("the layer holds more than \(limits.maximumUncompressedSize) bytes uncompressed")
        }
        var rest = input[...]
        while !rest.isEmpty {
            switch state {
            case .end:
                return
            case .header:
                let take = min(512 - block.count, rest.count)
                block.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                if block.count == 512 {
                    try headerComplete(visitor: &visitor)
                    block.removeAll(keepingCapacity: true)
                }
            case .content(let remaining, let wanted):
                let take = Int(min(remaining, Int64(rest.count)))
                if wanted {
                    try visitor.entryContent(UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
                }
                rest = rest.dropFirst(take)
                if remaining - Int64(take) == 0 {
                    if wanted { try visitor.entryFinished() }
                    state = pendingPadding > 0 ? .padding(remaining: pendingPadding) : .header
                } else {
                    state = .content(remaining: remaining - Int64(take), wanted: wanted)
                }
            case .metadata(let kind, let remaining):
                let take = min(remaining, rest.count)
                metadata.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                if remaining - take == 0 {
                    try metadataComplete(kind: kind)
                    state = pendingPadding > 0 ? .padding(remaining: pendingPadding) : .header
                } else {
                    state = .metadata(kind: kind, remaining: remaining - take)
                }
            case .padding(let remaining):
                let take = min(remaining, rest.count)
                rest = rest.dropFirst(take)
                state = remaining - take == 0 ? .header : .padding(remaining: remaining - take)
            }
        }
    }

    /// Checks the archive did not stop inside an entry.
    func finish() throws {
        switch state {
        case .end:
            return
        case .header:
            if totalBytes == 0 { throw LayerReadError.notATar("the layer is empty") }
            // Archives without the two zero blocks at the end are common and harmless.
            if !block.isEmpty { throw LayerReadError.truncatedTar("the stream ends inside a header") }
        case .content, .metadata:
            throw LayerReadError.truncatedTar("the stream ends inside an entry")
        case .padding:
            throw LayerReadError.truncatedTar("the stream ends inside an entry's padding")
        }
    }

    // MARK: headers

    private mutating func headerComplete(visitor: inout some TarVisitor) throws {
        if block.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            if zeroBlocks == 2 { state = .end }
            return
        }
        zeroBlocks = 0
        let header = try TarHeader(block, offset: totalBytes, isFirst: entries == 0)
        entries += 1
        let size = header.size
        pendingPadding = Int((512 - size % 512) % 512)

        switch header.type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size <= Int64(limits.maximumMetadataSize) else {
                throw LayerReadError.limitExceeded("a \(Character(UnicodeScalar(header.type))) header declares \(size) bytes (at most \(limits.maximumMetadataSize))")
            }
            metadata.removeAll(keepingCapacity: true)
            state = size == 0 ? .header : .metadata(kind: header.type, remaining: Int(size))
            if size == 0 { try metadataComplete(kind: header.type) }
            return
        case UInt8(ascii: "S"):
            // Old GNU sparse: the expanded size is at offset 483.
            let declared = TarHeader.number(block[483..<495]) ?? 0
            try checkSparse(declared)
        default:
            break
        }

        let rawPath = nextPath ?? header.name
        let linkTarget = nextLinkPath ?? header.linkName
        let contentSize = nextSize ?? size
        nextPath = nil
        nextLinkPath = nil
        nextSize = nil
        pendingPadding = Int((512 - contentSize % 512) % 512)

        guard rawPath.utf8.count <= limits.maximumPathLength else {
            throw LayerReadError.limitExceeded("an entry's path is \(rawPath.utf8.count) bytes long (at most \(limits.maximumPathLength))")
        }
        let path = TarPath.clean(rawPath)
        let depth = path.utf8.reduce(1) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 }
        guard depth <= limits.maximumPathDepth else {
            throw LayerReadError.limitExceeded("an entry's path is \(depth) directories deep (at most \(limits.maximumPathDepth))")
        }

        let kind: TarEntry.Kind
        switch header.type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"), UInt8(ascii: "S"): kind = .regular
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "2"): kind = .symbolicLink(target: linkTarget)
        case UInt8(ascii: "1"): kind = .hardLink(target: TarPath.clean(linkTarget))
        default: kind = .other
        }
        let entry = TarEntry(path: path, kind: kind, size: contentSize, mode: header.mode)
        let wanted = try visitor.entryStarted(entry)
        if contentSize == 0 {
            if wanted { try visitor.entryFinished() }
            state = pendingPadding > 0 ? .padding(remaining: pendingPadding) : .header
        } else {
            state = .content(remaining: contentSize, wanted: wanted)
        }
    }

    private func checkSparse(_ declared: Int64) throws {
        guard declared <= limits.maximumSparseSize else {
            throw LayerReadError.limitExceeded("a sparse entry declares \(declared) bytes (at most \(limits.maximumSparseSize))")
        }
    }

    private mutating func metadataComplete(kind: UInt8) throws {
        switch kind {
        case UInt8(ascii: "L"):
            nextPath = String(decoding: metadata.prefix { $0 != 0 }, as: UTF8.self)
        case UInt8(ascii: "K"):
            nextLinkPath = String(decoding: metadata.prefix { $0 != 0 }, as: UTF8.self)
        case UInt8(ascii: "x"):
            for (key, value) in try Self.paxRecords(metadata) {
                switch key {
                case "path": nextPath = value
                case "linkpath": nextLinkPath = value
                case "size":
                    guard let size = Int64(value), size >= 0 else { throw LayerReadError.notATar("a PAX size of '\(value)'") }
                    nextSize = size
                case "GNU.sparse.realsize", "GNU.sparse.size":
                    try checkSparse(Int64(value) ?? Int64.max)
                case "GNU.sparse.name":
                    nextPath = value
                default: break
                }
            }
        default:
            // Global PAX headers set defaults no detector needs.
            break
        }
        metadata.removeAll(keepingCapacity: true)
    }

    /// PAX records: `"<length> <key>=<value>\n"`, the length counting the whole record.
    static func paxRecords(_ bytes: [UInt8]) throws -> [(String, String)] {
        var records: [(String, String)] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            if rest.allSatisfy({ $0 == 0 }) { break }
            guard let space = rest.firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)),
                  length > space - rest.startIndex + 1, length <= rest.count,
                  rest[rest.startIndex + length - 1] == UInt8(ascii: "\n") else {
                throw LayerReadError.notATar("a malformed PAX record")
            }
            let record = rest[(space + 1)..<(rest.startIndex + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { throw LayerReadError.notATar("a PAX record without '='") }
            records.append((String(decoding: record[..<equals], as: UTF8.self), String(decoding: record[(equals + 1)...], as: UTF8.self)))
            rest = rest.dropFirst(length)
        }
        return records
    }
}
