import CKuraLZ4
import Foundation

/// Compresses and decompresses whole files in the LZ4 frame format (what `lz4` and
/// `unlz4` read and write), streaming in 1 MiB pieces. Used for catalog snapshots, which
/// compress well; never for blobs, which mostly do not.
public enum LZ4FrameFile {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static let pieceSize = 1 << 20

    /// Writes `source` compressed to `destination`; returns the compressed size.
    @discardableResult
    public static func compress(_ source: String, to destination: String) throws -> Int64 {
        guard let input = FileHandle(forReadingAtPath: source) else { throw Failure(description: "cannot read \(source)") }
        defer { try? input.close() }
        let output = try create(destination)
        defer { try? output.close() }
        var context: OpaquePointer?
        try check(LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION)), "creating a compression context")
        defer { LZ4F_freeCompressionContext(context) }
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        var buffer = [UInt8](repeating: 0, count: LZ4F_compressBound(pieceSize, &preferences) + Int(LZ4F_HEADER_SIZE_MAX))
        var written: Int64 = 0
        func emit(_ count: Int) throws {
            try output.write(contentsOf: buffer[0..<count])
            written += Int64(count)
        }
        try emit(try check(buffer.withUnsafeMutableBytes { LZ4F_compressBegin(context, $0.baseAddress, $0.count, &preferences) }, "starting a frame"))
        while let piece = try input.read(upToCount: pieceSize), !piece.isEmpty {
            let count = try check(
                buffer.withUnsafeMutableBytes { out in
                    piece.withUnsafeBytes { LZ4F_compressUpdate(context, out.baseAddress, out.count, $0.baseAddress, $0.count, nil) }
                }, "compressing")
            try emit(count)
        }
        try emit(try check(buffer.withUnsafeMutableBytes { LZ4F_compressEnd(context, $0.baseAddress, $0.count, nil) }, "ending the frame"))
        try output.synchronize()
        return written
    }

    /// Writes the decompressed `source` to `destination`; returns the decompressed size.
    /// Throws when the frame is damaged or truncated (its checksum is verified).
    @discardableResult
    public static func decompress(_ source: String, to destination: String) throws -> Int64 {
        guard let input = FileHandle(forReadingAtPath: source) else { throw Failure(description: "cannot read \(source)") }
        defer { try? input.close() }
        let output = try create(destination)
        defer { try? output.close() }
        var context: OpaquePointer?
        try check(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION)), "creating a decompression context")
        defer { LZ4F_freeDecompressionContext(context) }
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var written: Int64 = 0
        var expectMore = 1  // LZ4F_decompress's hint: 0 once the frame is complete
        while let piece = try input.read(upToCount: pieceSize), !piece.isEmpty {
            var consumed = 0
            while consumed < piece.count {
                var sourceSize = piece.count - consumed
                var destinationSize = buffer.count
                let hint = try check(
                    buffer.withUnsafeMutableBytes { out in
                        piece.withUnsafeBytes { bytes in
                            LZ4F_decompress(context, out.baseAddress, &destinationSize, bytes.baseAddress! + consumed, &sourceSize, nil)
                        }
                    }, "decompressing")
                consumed += sourceSize
                try output.write(contentsOf: buffer[0..<destinationSize])
                written += Int64(destinationSize)
                expectMore = hint
            }
        }
        guard expectMore == 0 else { throw Failure(description: "\(source) is truncated") }
        try output.synchronize()
        return written
    }

    private static func create(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw Failure(description: "cannot create \(path)")
        }
        return handle
    }

    @discardableResult
    private static func check(_ code: Int, _ what: String) throws -> Int {
        if LZ4F_isError(code) != 0 { throw Failure(description: "LZ4 \(what): \(String(cString: LZ4F_getErrorName(code)))") }
        return code
    }
}
