import CKuraOpenSSL
public import KuraCore
public import NIOCore

/// An incremental SHA-256/SHA-512 whose state can be saved and restored.
///
/// It wraps OpenSSL's `SHA256_CTX`/`SHA512_CTX`, which are plain data: the bytes of the
/// context are the whole state of the hash. Saving them after every chunk of an upload lets
/// any process continue the hash later without reading the bytes again.
public struct ContentHasher: Sendable {
    private enum Context: Sendable {
        case sha256(SHA256_CTX)
        case sha512(SHA512_CTX)
    }

    private var context: Context
    /// Bytes hashed so far.
    public private(set) var byteCount: Int64

    public var algorithm: DigestAlgorithm {
        switch context {
        case .sha256: .sha256
        case .sha512: .sha512
        }
    }

    public init(_ algorithm: DigestAlgorithm) {
        switch algorithm {
        case .sha256:
            var ctx = SHA256_CTX()
            SHA256_Init(&ctx)
            context = .sha256(ctx)
        case .sha512:
            var ctx = SHA512_CTX()
            SHA512_Init(&ctx)
            context = .sha512(ctx)
        }
        byteCount = 0
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        switch context {
        case .sha256(var ctx):
            SHA256_Update(&ctx, base, bytes.count)
            context = .sha256(ctx)
        case .sha512(var ctx):
            SHA512_Update(&ctx, base, bytes.count)
            context = .sha512(ctx)
        }
        byteCount += Int64(bytes.count)
    }

    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything hashed so far. The hasher itself is not consumed.
    public func finalize() -> Digest {
        switch context {
        case .sha256(var ctx):
            var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
            SHA256_Final(&out, &ctx)
            return Digest(algorithm: .sha256, rawBytes: out)
        case .sha512(var ctx):
            var out = [UInt8](repeating: 0, count: Int(SHA512_DIGEST_LENGTH))
            SHA512_Final(&out, &ctx)
            return Digest(algorithm: .sha512, rawBytes: out)
        }
    }

    /// One-shot digest of a byte sequence.
    public static func digest(_ algorithm: DigestAlgorithm, of buffer: ByteBuffer) -> Digest {
        var hasher = ContentHasher(algorithm)
        hasher.update(buffer)
        return hasher.finalize()
    }

    public static func digest(_ algorithm: DigestAlgorithm, of bytes: some Sequence<UInt8>) -> Digest {
        var hasher = ContentHasher(algorithm)
        hasher.update(Array(bytes))
        return hasher.finalize()
    }

    // MARK: saving and restoring

    /// The saved state: the raw bytes of the OpenSSL context.
    public var savedState: [UInt8] {
        switch context {
        case .sha256(let ctx): withUnsafeBytes(of: ctx) { Array($0) }
        case .sha512(let ctx): withUnsafeBytes(of: ctx) { Array($0) }
        }
    }

    /// Restores a hasher from ``savedState``.
    ///
    /// The bytes come from storage and are not trusted: the context must have the right
    /// size, a buffered-byte count inside its block (OpenSSL would copy out of bounds
    /// otherwise), the algorithm's output length, and a bit count equal to `byteCount`.
    public init(algorithm: DigestAlgorithm, savedState: [UInt8], byteCount: Int64) throws(StorageError) {
        switch algorithm {
        case .sha256:
            guard savedState.count == MemoryLayout<SHA256_CTX>.size else {
                throw .corruptState("sha256 state has \(savedState.count) bytes")
            }
            var ctx = SHA256_CTX()
            withUnsafeMutableBytes(of: &ctx) { $0.copyBytes(from: savedState) }
            let bits = UInt64(ctx.Nh) << 32 | UInt64(ctx.Nl)
            guard ctx.num < 64, ctx.md_len == UInt32(SHA256_DIGEST_LENGTH), bits == UInt64(byteCount) &* 8 else {
                throw .corruptState("sha256 state does not match \(byteCount) bytes hashed")
            }
            context = .sha256(ctx)
        case .sha512:
            guard savedState.count == MemoryLayout<SHA512_CTX>.size else {
                throw .corruptState("sha512 state has \(savedState.count) bytes")
            }
            var ctx = SHA512_CTX()
            withUnsafeMutableBytes(of: &ctx) { $0.copyBytes(from: savedState) }
            let bits = UInt64(ctx.Nl)  // low 64 bits of the 128-bit length
            guard ctx.num < 128, ctx.md_len == UInt32(SHA512_DIGEST_LENGTH), ctx.Nh == 0, bits == UInt64(byteCount) &* 8 else {
                throw .corruptState("sha512 state does not match \(byteCount) bytes hashed")
            }
            context = .sha512(ctx)
        }
        self.byteCount = byteCount
    }
}
