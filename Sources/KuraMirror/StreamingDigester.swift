import Crypto
import KuraCore
import NIOCore

/// Hashes bytes as they stream past, with the algorithm of the digest they must match.
struct StreamingDigester {
    private enum State {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State
    let algorithm: DigestAlgorithm

    init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            switch state {
            case .sha256(var hasher):
                hasher.update(bufferPointer: bytes)
                state = .sha256(hasher)
            case .sha512(var hasher):
                hasher.update(bufferPointer: bytes)
                state = .sha512(hasher)
            }
        }
    }

    func finalize() -> KuraCore.Digest {
        switch state {
        case .sha256(let hasher): Digest(algorithm: .sha256, rawBytes: Array(hasher.finalize()))
        case .sha512(let hasher): Digest(algorithm: .sha512, rawBytes: Array(hasher.finalize()))
        }
    }

    /// The digest of a whole buffer (manifests).
    static func digest(_ algorithm: DigestAlgorithm, of bytes: ByteBuffer) -> KuraCore.Digest {
        var digester = StreamingDigester(algorithm)
        digester.update(bytes)
        return digester.finalize()
    }
}
