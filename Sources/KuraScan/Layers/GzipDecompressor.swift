import CKuraZlib

/// gzip through zlib's `inflate`, streaming. Concatenated gzip members (which `gzip`
/// writes for appended files, and which are valid gzip) are read one after another.
struct GzipDecompressor: Decompressor {
    /// zlib keeps pointers into its `z_stream`, so it lives at a fixed address.
    private final class Stream {
        let pointer = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

        init() throws {
            pointer.initialize(to: z_stream())
            // 15 window bits + 16: gzip wrapper only.
            let status = inflateInit2_(pointer, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                pointer.deallocate()
                throw LayerReadError.corruptCompression("zlib inflateInit2 failed (\(status))")
            }
        }

        deinit {
            inflateEnd(pointer)
            pointer.deallocate()
        }
    }

    private let stream: Stream
    private var output = [UInt8](repeating: 0, count: 256 << 10)
    /// True between members: the previous one ended and no byte of the next has arrived.
    private var atMemberBoundary = false
    private var sawInput = false

    init() throws {
        stream = try Stream()
    }

    mutating func decompress(_ input: UnsafeRawBufferPointer, output deliver: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        sawInput = true
        let z = stream.pointer
        z.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        z.pointee.avail_in = UInt32(input.count)
        defer { z.pointee.next_in = nil }
        // Runs while input remains, or while the last call filled the output (more may be pending).
        repeat {
            if atMemberBoundary {
                guard z.pointee.avail_in > 0 else { break }
                inflateReset(z)
                atMemberBoundary = false
            }
            var status: Int32 = Z_OK
            let produced = output.withUnsafeMutableBytes { buffer -> Int in
                z.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
                z.pointee.avail_out = UInt32(buffer.count)
                status = inflate(z, Z_NO_FLUSH)
                return buffer.count - Int(z.pointee.avail_out)
            }
            switch status {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: atMemberBoundary = true
            default:
                let message = z.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw LayerReadError.corruptCompression("gzip: \(message)")
            }
            if produced > 0 {
                try output.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            if status == Z_BUF_ERROR && produced == 0 { break }
        } while z.pointee.avail_in > 0 || z.pointee.avail_out == 0
    }

    mutating func finish() throws {
        guard sawInput, atMemberBoundary else {
            throw LayerReadError.truncatedCompression("the gzip stream ends before its last member does")
        }
    }
}
