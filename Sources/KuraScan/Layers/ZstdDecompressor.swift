import CKuraZstd

/// zstd through libzstd's streaming API. The window is capped (128 MiB, zstd's default
/// for decoders) so a frame cannot demand unbounded memory.
struct ZstdDecompressor: Decompressor {
    private final class Context {
        let stream: OpaquePointer

        init() throws {
            guard let stream = ZSTD_createDStream() else { throw LayerReadError.corruptCompression("zstd: cannot create a decoder") }
            self.stream = stream
            ZSTD_initDStream(stream)
            ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, 27)
        }

        deinit { ZSTD_freeDStream(stream) }
    }

    private let context: Context
    private var output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    /// What the last call returned: 0 when a frame has just been completely decoded.
    private var lastHint = 1
    private var sawInput = false

    init() throws {
        context = try Context()
    }

    mutating func decompress(_ input: UnsafeRawBufferPointer, output deliver: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        sawInput = true
        var inBuffer = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        var flushing = true
        while inBuffer.pos < inBuffer.size || flushing {
            var outBuffer = ZSTD_outBuffer()
            let hint = output.withUnsafeMutableBytes { buffer -> Int in
                outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                return ZSTD_decompressStream(context.stream, &outBuffer, &inBuffer)
            }
            if ZSTD_isError(hint) != 0 {
                throw LayerReadError.corruptCompression("zstd: \(String(cString: ZSTD_getErrorName(hint)))")
            }
            lastHint = hint
            let produced = outBuffer.pos
            if produced > 0 {
                try output.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            // A full output buffer may mean more is pending inside the decoder.
            flushing = produced == output.count
        }
    }

    mutating func finish() throws {
        guard sawInput, lastHint == 0 else {
            throw LayerReadError.truncatedCompression("the zstd stream ends inside a frame")
        }
    }
}
