import Foundation

/// Whether ZIPFoundation's `Archive(data:accessMode: .read)` will find the archive's end
/// record, checked without it: that initialiser leaks its in-memory `FILE` (and the buffer
/// it holds) when it throws, so a layer full of malformed jars would leak a little per jar
/// (found by the `FuzzLayer` target under LeakSanitizer). The check is ZIPFoundation's own:
/// the end record is the last `PK\u{5}\u{6}` signature at least 22 bytes from the end, and
/// its comment must fit in what follows.
enum ZipEndRecord {
    static let size = 22
    static let signature: [UInt8] = [0x50, 0x4B, 0x05, 0x06]

    static func isReadable(_ data: Data) -> Bool {
        guard data.count >= size else { return false }
        return data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
            var offset = bytes.count - size
            while offset >= 0 {
                if bytes[offset] == signature[0], bytes[offset + 1] == signature[1], bytes[offset + 2] == signature[2],
                    bytes[offset + 3] == signature[3]
                {
                    let commentLength = Int(bytes[offset + 20]) | Int(bytes[offset + 21]) << 8
                    return offset + size + commentLength <= bytes.count
                }
                offset -= 1
            }
            return false
        }
    }
}
