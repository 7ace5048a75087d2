/// Deterministic test data.
public enum TestData {
    /// `count` pseudo-random bytes (xorshift64, eight bytes per step), the same for the same
    /// seed. Written through a raw buffer: the tests ask for up to ~100 MiB, and a byte-wise
    /// `map` in a debug build took seconds of a cooperative thread, starving the other tests.
    public static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let words = count / 8
            buffer.withMemoryRebound(to: UInt8.self) { bytes in
                let raw = UnsafeMutableRawBufferPointer(bytes)
                for index in 0..<words {
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    raw.storeBytes(of: state.littleEndian, toByteOffset: index * 8, as: UInt64.self)
                }
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                for index in (words * 8)..<count { raw[index] = UInt8(truncatingIfNeeded: state >> ((index % 8) * 8)) }
            }
            initialized = count
        }
    }
}
