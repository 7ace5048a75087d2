/// A 512-byte ustar/GNU header block, validated by its checksum.
struct TarHeader {
    let name: String
    let mode: Int
    let size: Int64
    let type: UInt8
    let linkName: String

    init(_ block: [UInt8], offset: Int64, isFirst: Bool) throws {
        let stored = Self.number(block[148..<156])
        var sum = 0
        for (index, byte) in block.enumerated() { sum += (148..<156).contains(index) ? 0x20 : Int(byte) }
        guard let stored, Int64(sum) == stored else {
            throw LayerReadError.notATar(isFirst ? "the first 512 bytes are not a tar header" : "a header checksum does not match near byte \(offset)")
        }
        guard let size = Self.number(block[124..<136]), size >= 0 else {
            throw LayerReadError.notATar("a header's size field is not a number near byte \(offset)")
        }
        self.size = size
        mode = Int(Self.number(block[100..<108]) ?? 0)
        type = block[156]
        linkName = Self.string(block[157..<257])
        let name = Self.string(block[0..<100])
        // ustar (not the old GNU magic "ustar  ") splits long names into prefix and name.
        let isPOSIX = block[257..<263].elementsEqual("ustar\0".utf8)
        let prefix = isPOSIX ? Self.string(block[345..<500]) : ""
        self.name = prefix.isEmpty ? name : prefix + "/" + name
    }

    static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field (space or NUL padded), or GNU's base-256 form for large values.
    static func number(_ field: ArraySlice<UInt8>) -> Int64? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            // Base-256: the rest of the first byte and the following bytes, big-endian.
            var value: Int64 = Int64(first & 0x7F)
            for byte in field.dropFirst() {
                guard value <= (Int64.max >> 8) else { return nil }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        let digits = field.drop { $0 == 0x20 || $0 == 0 }.prefix { $0 >= 0x30 && $0 <= 0x37 }
        let trailing = field.drop { $0 == 0x20 || $0 == 0 }.dropFirst(digits.count)
        guard trailing.allSatisfy({ $0 == 0x20 || $0 == 0 }) else { return nil }
        if digits.isEmpty { return 0 }
        var value: Int64 = 0
        for digit in digits {
            guard value <= (Int64.max >> 3) else { return nil }
            value = value << 3 | Int64(digit - 0x30)
        }
        return value
    }
}
