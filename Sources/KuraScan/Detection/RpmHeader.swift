/// An RPM package header as the rpm database stores it (rpm's "header blob"): an index of
/// `(tag, type, offset, count)` entries, big-endian, then the data they point into.
struct RpmHeader {
    enum Tag: Int32 {
        case name = 1000, version = 1001, release = 1002, epoch = 1003, arch = 1022, sourceRPM = 1044
    }

    private static let stringType: Int32 = 6
    private static let int32Type: Int32 = 4
    private static let i18nStringType: Int32 = 9

    private var strings: [Int32: String] = [:]
    private var integers: [Int32: Int32] = [:]

    /// Parses a header blob; nil if it is not one (bounds are checked, nothing is trusted).
    init?(blob: [UInt8]) {
        func int32(at offset: Int) -> Int32? {
            guard offset >= 0, offset + 4 <= blob.count else { return nil }
            return Int32(bitPattern: UInt32(blob[offset]) << 24 | UInt32(blob[offset + 1]) << 16 | UInt32(blob[offset + 2]) << 8 | UInt32(blob[offset + 3]))
        }
        guard let indexCount = int32(at: 0), let dataLength = int32(at: 4), indexCount >= 0, dataLength >= 0,
              indexCount < 100_000 else { return nil }
        let dataStart = 8 + Int(indexCount) * 16
        guard dataStart + Int(dataLength) <= blob.count else { return nil }
        for entry in 0..<Int(indexCount) {
            let base = 8 + entry * 16
            guard let tag = int32(at: base), let type = int32(at: base + 4), let offset = int32(at: base + 8),
                  offset >= 0, offset < dataLength else { return nil }
            guard Tag(rawValue: tag) != nil else { continue }
            let start = dataStart + Int(offset)
            switch type {
            case Self.stringType, Self.i18nStringType:
                let bytes = blob[start..<(dataStart + Int(dataLength))].prefix { $0 != 0 }
                strings[tag] = String(decoding: bytes, as: UTF8.self)
            case Self.int32Type:
                integers[tag] = int32(at: start)
            default:
                continue
            }
        }
    }

    subscript(_ tag: Tag) -> String? { strings[tag.rawValue] }

    func integer(_ tag: Tag) -> Int32? { integers[tag.rawValue] }

    /// `openssl-3.0.7-24.el9.src.rpm` → `openssl`: the source package advisories may name.
    var sourceName: String? {
        guard let sourceRPM = self[.sourceRPM], sourceRPM.hasSuffix(".src.rpm") else { return nil }
        let base = sourceRPM.dropLast(".src.rpm".count)
        let parts = base.split(separator: "-")
        guard parts.count >= 3 else { return nil }
        return parts.dropLast(2).joined(separator: "-")
    }
}
