/// Hand-made tar headers, for input no honest tar tool writes.
enum CraftedTar {
    /// A ustar header block with a correct checksum.
    static func header(name: String, type: Character = "0", size: Int64, mode: Int = 0o644) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        put(name, at: 0, width: 100)
        put(octal(Int64(mode), width: 8), at: 100, width: 7)
        put(octal(0, width: 8), at: 108, width: 7)
        put(octal(0, width: 8), at: 116, width: 7)
        put(octal(size, width: 12), at: 124, width: 11)
        put(octal(0, width: 12), at: 136, width: 11)
        block[156] = UInt8(ascii: type.unicodeScalars.first!)
        put("ustar\0", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(octal(Int64(sum), width: 7) + "\0", at: 148, width: 8)
        return block
    }

    /// Content padded to whole 512-byte blocks.
    static func padded(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
    }

    /// A PAX extended header carrying `records`, followed by a file entry.
    static func paxEntry(records: [(String, String)], name: String, content: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        for (key, value) in records {
            let payload = " \(key)=\(value)\n"
            var length = payload.utf8.count + 1
            while String(length).utf8.count + payload.utf8.count != length { length += 1 }
            body += Array("\(length)\(payload)".utf8)
        }
        return header(name: "PaxHeaders/x", type: "x", size: Int64(body.count)) + padded(body)
            + header(name: name, size: Int64(content.count)) + padded(content)
    }

    static let end = [UInt8](repeating: 0, count: 1024)
}
