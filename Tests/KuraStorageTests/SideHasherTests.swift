import KuraCore
import NIOCore
import Testing

@testable import KuraStorage

@Suite("SideHasher")
struct SideHasherTests {
    /// With a backlog bound far below what is added, `add` has to wait for the hasher again and
    /// again; the digest is still that of every byte, in order.
    @Test(arguments: [1, 4096, 1 << 30])
    func theDigestIsThatOfEveryByteWhateverTheBacklogBound(maxLag: Int) async throws {
        let bytes = testBytes(3 << 20 + 11, seed: 8)
        let hasher = SideHasher(.sha256, maxLag: maxLag)
        var offset = 0
        var piece = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            let batch = [ByteBuffer(bytes: bytes[offset..<end]), ByteBuffer(), ByteBuffer(bytes: bytes[end..<min(bytes.count, end + 7)])]
            await hasher.add(batch)
            offset = min(bytes.count, end + 7)
            piece = piece * 3 % 300_007 + 1
        }
        #expect(await hasher.finish() == sha256(bytes))
    }
}
