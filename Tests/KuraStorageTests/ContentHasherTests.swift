import KuraCore
import KuraStorage
import Testing

@Suite("ContentHasher")
struct ContentHasherTests {
    @Test func knownVectors() {
        #expect(
            ContentHasher.digest(.sha256, of: Array("abc".utf8)).encoded
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            ContentHasher.digest(.sha256, of: []).encoded
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            ContentHasher.digest(.sha512, of: Array("abc".utf8)).encoded
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    }

    @Test(arguments: DigestAlgorithm.allCases)
    func savedStateResumesExactly(_ algorithm: DigestAlgorithm) throws {
        let bytes = testBytes(100_003)
        let whole = ContentHasher.digest(algorithm, of: bytes)
        // Split at awkward points: mid-block, so the saved context holds buffered bytes.
        for split in [0, 1, 63, 64, 65, 127, 129, 50_001, 100_003] {
            var first = ContentHasher(algorithm)
            first.update(Array(bytes[..<split]))
            let saved = first.savedState
            var resumed = try ContentHasher(algorithm: algorithm, savedState: saved, byteCount: Int64(split))
            resumed.update(Array(bytes[split...]))
            #expect(resumed.finalize() == whole)
            #expect(resumed.byteCount == 100_003)
        }
    }

    @Test func refusesStateThatDoesNotAddUp() {
        var hasher = ContentHasher(.sha256)
        hasher.update(testBytes(1000))
        let saved = hasher.savedState
        #expect(throws: StorageError.self) { try ContentHasher(algorithm: .sha256, savedState: saved, byteCount: 999) }
        #expect(throws: StorageError.self) { try ContentHasher(algorithm: .sha512, savedState: saved, byteCount: 1000) }
        #expect(throws: StorageError.self) {
            try ContentHasher(algorithm: .sha256, savedState: Array(saved.dropLast()), byteCount: 1000)
        }
        var corrupt = saved
        // `num` (bytes buffered in the block) sits after h[8], Nl, Nh and data[16]: offset 104.
        corrupt[104] = 200
        #expect(throws: StorageError.self) { try ContentHasher(algorithm: .sha256, savedState: corrupt, byteCount: 1000) }
    }
}
