import Foundation
import KuraCore
import KuraStorage
import NIOCore
import Testing

@Suite("TieredBackend")
struct TieredBackendTests {
    private func withTiered<T>(maxBytes: Int64 = 64 << 10, _ body: (FileSystemBackend, String, TieredBackend) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { base in
            let remote = try FileSystemBackend(root: "\(base)/remote")
            let tiered = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: maxBytes)
            return try await body(remote, "\(base)/cache", tiered)
        }
    }

    private func read(_ backend: any ObjectBackend, _ key: ObjectKey) async throws -> [UInt8] {
        try await collect(backend.get(key, range: nil).body)
    }

    @Test func missFillsThenHits() async throws {
        try await withTiered { _, _, tiered in
            let store = BlobStore(backend: tiered)
            let bytes = testBytes(20_000)
            let info = try await store.ingest(ChunkedBody(bytes))
            let key = ObjectKey(blob: info.digest)
            #expect(!tiered.isCached(key))
            #expect(try await read(tiered, key) == bytes)
            #expect(tiered.isCached(key))
            #expect(try await read(tiered, key) == bytes)
            let stats = tiered.statistics
            #expect(stats.misses == 1 && stats.hits == 1 && stats.fills == 1)
            #expect(stats.bytesFromCache == 20_000 && stats.bytesFromRemote == 20_000)
            // Ranged reads of a cached object come from the cache too.
            #expect(try await collect(tiered.get(key, range: 10..<20).body) == Array(bytes[10..<20]))
            #expect(tiered.statistics.hits == 2)
        }
    }

    @Test func aCorruptRemoteBlobIsNotCachedNorDeliveredWhole() async throws {
        try await withTiered { remote, _, tiered in
            let bytes = testBytes(10_000)
            let key = ObjectKey(blob: sha256(bytes))
            var corrupt = bytes
            corrupt[5000] ^= 0xff
            try await remote.put(key, bytes: ByteBuffer(bytes: corrupt))
            await #expect(throws: StorageError.self) { _ = try await read(tiered, key) }
            #expect(!tiered.isCached(key))
            #expect(tiered.statistics.rejectedFills == 1)
        }
    }

    /// The hash runs beside the client's stream, so most of a corrupt blob reaches the client
    /// before the check; the last chunk never does, and the read fails.
    @Test func aLargeCorruptRemoteBlobFailsBeforeItsLastByte() async throws {
        try await withTiered(maxBytes: 16 << 20) { remote, _, tiered in
            let bytes = testBytes(3 << 20 + 5, seed: 4)
            let key = ObjectKey(blob: sha256(bytes))
            var corrupt = bytes
            corrupt[corrupt.count - 2] ^= 0xff
            try await remote.put(key, bytes: ByteBuffer(bytes: corrupt))
            var received = 0
            await #expect(throws: StorageError.self) {
                for try await chunk in try await tiered.get(key, range: nil).body { received += chunk.readableBytes }
            }
            #expect(received < bytes.count)
            #expect(!tiered.isCached(key))
            #expect(tiered.statistics.rejectedFills == 1 && tiered.statistics.fills == 0)
            // The right bytes fill and are served whole.
            try await remote.put(key, bytes: ByteBuffer(bytes: bytes))
            #expect(try await read(tiered, key) == bytes)
            #expect(tiered.isCached(key))
        }
    }

    @Test func evictsLeastRecentlyUsedWithinTheBound() async throws {
        try await withTiered(maxBytes: 64 << 10) { remote, _, tiered in
            var keys: [ObjectKey] = []
            for seed in 1...3 {
                let bytes = testBytes(30 << 10, seed: UInt64(seed))
                let key = ObjectKey(blob: sha256(bytes))
                try await remote.put(key, bytes: ByteBuffer(bytes: bytes))
                keys.append(key)
            }
            _ = try await read(tiered, keys[0])
            _ = try await read(tiered, keys[1])
            _ = try await read(tiered, keys[0])  // keys[0] is now more recent than keys[1]
            _ = try await read(tiered, keys[2])
            #expect(tiered.cachedBytes <= 64 << 10)
            #expect(tiered.isCached(keys[0]) && !tiered.isCached(keys[1]) && tiered.isCached(keys[2]))
            #expect(tiered.statistics.evictions == 1)
        }
    }

    @Test func theIndexSurvivesARestart() async throws {
        try await withTemporaryDirectory { base in
            let remote = try FileSystemBackend(root: "\(base)/remote")
            let bytes = testBytes(4096)
            let key = ObjectKey(blob: sha256(bytes))
            try await remote.put(key, bytes: ByteBuffer(bytes: bytes))
            do {
                let first = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: 1 << 20)
                _ = try await read(first, key)
            }
            let second = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: 1 << 20)
            #expect(second.isCached(key))
            #expect(second.cachedBytes == 4096)
            #expect(try await read(second, key) == bytes)
            #expect(second.statistics.hits == 1 && second.statistics.misses == 0)
        }
    }

    /// A copy that falls behind the client's stream is given up, not waited for: with no lag
    /// allowed, the first chunk already gives it up. The read is whole and verified, nothing is
    /// cached or left in the cache folder, and a later read (with lag allowed) fills.
    @Test func aCopyThatFallsBehindIsGivenUpAndTheReadGoesOn() async throws {
        try await withTemporaryDirectory { base in
            let remote = try FileSystemBackend(root: "\(base)/remote")
            let bytes = testBytes(3 << 20)
            let key = ObjectKey(blob: sha256(bytes))
            try await remote.put(key, bytes: ByteBuffer(bytes: bytes))
            let impatient = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: 16 << 20, fillLagBytes: 0)
            let before = try regularFiles(in: "\(base)/cache")
            #expect(try await read(impatient, key) == bytes)
            #expect(!impatient.isCached(key))
            #expect(impatient.statistics.abandonedFills == 1 && impatient.statistics.fills == 0)
            #expect(try regularFiles(in: "\(base)/cache") == before, "the given-up copy left files behind")
            // A corrupt remote blob is still refused when the copy was given up.
            var corrupt = testBytes(2 << 20, seed: 9)
            let corruptKey = ObjectKey(blob: sha256(corrupt))
            corrupt[1000] ^= 0xff
            try await remote.put(corruptKey, bytes: ByteBuffer(bytes: corrupt))
            await #expect(throws: StorageError.self) { _ = try await read(impatient, corruptKey) }
            let patient = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: 16 << 20)
            #expect(try await read(patient, key) == bytes)
            #expect(patient.isCached(key) && patient.statistics.fills == 1)
        }
    }

    private func regularFiles(in directory: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: directory).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(directory)/\(path)", isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    @Test func concurrentMissesFillOnce() async throws {
        try await withTiered(maxBytes: 1 << 20) { remote, _, tiered in
            let bytes = testBytes(300_000)
            let key = ObjectKey(blob: sha256(bytes))
            try await remote.put(key, bytes: ByteBuffer(bytes: bytes))
            let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for _ in 0..<6 { group.addTask { try await self.read(tiered, key) } }
                return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0 == bytes })
            #expect(tiered.statistics.fills == 1)
            #expect(tiered.isCached(key))
        }
    }
}

@Suite("TieredBackend: damaged cache")
struct TieredBackendDamageTests {
    /// A cached copy is re-hashed beside the stream as it leaves the cache (the reader may be
    /// a connection's event loop): a copy of several chunks damaged on disk still never
    /// reaches the reader whole, and a good one is served exactly.
    @Test func aLargeCorruptedCacheFileFailsBeforeItsLastByte() async throws {
        try await withTemporaryDirectory { base in
            let remote = try FileSystemBackend(root: "\(base)/remote")
            let tiered = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: 16 << 20)
            let bytes = testBytes(3 << 20 + 7, seed: 9)
            let key = ObjectKey(blob: sha256(bytes))
            try await remote.put(key, bytes: ByteBuffer(bytes: bytes))
            #expect(try await collect(tiered.get(key, range: nil).body) == bytes)  // fills the cache
            #expect(try await collect(tiered.get(key, range: nil).body) == bytes)  // a hit, checked beside the stream
            #expect(tiered.statistics.hits == 1 && tiered.statistics.corruptCopies == 0)
            let path = "\(base)/cache/\(key.value)"
            var damaged = try Data(contentsOf: URL(fileURLWithPath: path))
            damaged[(3 << 20) / 2] ^= 0x01
            try damaged.write(to: URL(fileURLWithPath: path))
            var received = 0
            await #expect(throws: StorageError.self) {
                for try await chunk in try await tiered.get(key, range: nil).body { received += chunk.readableBytes }
            }
            #expect(received < bytes.count)
            #expect(!tiered.isCached(key))
            #expect(tiered.statistics.corruptCopies == 1)
        }
    }

    @Test func aCorruptedCacheFileIsDetectedDroppedAndRefetched() async throws {
        try await withTemporaryDirectory { base in
            let remote = try FileSystemBackend(root: "\(base)/remote")
            let tiered = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: 1 << 20)
            let bytes = testBytes(50_000)
            let key = ObjectKey(blob: sha256(bytes))
            try await remote.put(key, bytes: ByteBuffer(bytes: bytes))
            #expect(try await collect(tiered.get(key, range: nil).body) == bytes)  // fills the cache
            #expect(tiered.isCached(key))
            // Flip a byte of the cached copy on disk.
            let path = "\(base)/cache/\(key.value)"
            var damaged = try Data(contentsOf: URL(fileURLWithPath: path))
            damaged[25_000] ^= 0x01
            try damaged.write(to: URL(fileURLWithPath: path))
            // The read fails instead of delivering a complete wrong blob, and the copy is dropped.
            await #expect(throws: StorageError.self) { _ = try await collect(tiered.get(key, range: nil).body) }
            #expect(!tiered.isCached(key))
            #expect(tiered.statistics.corruptCopies == 1)
            // The next read refetches from the remote and caches a good copy again.
            #expect(try await collect(tiered.get(key, range: nil).body) == bytes)
            #expect(tiered.isCached(key))
            #expect(try await collect(tiered.get(key, range: nil).body) == bytes)
        }
    }
}
