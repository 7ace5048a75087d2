import KuraCore
import KuraMetadata
import Testing

/// Many writers at once, run against every store in ``CatalogFixture/all``.
@Suite("MetadataStore conformance: concurrency")
struct ConcurrencyConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func parallelWritesAllLand(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let count = 50
            let shared = try repo("shared")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<count {
                    group.addTask {
                        // All tasks race to create `shared` and to link the same blob in it.
                        try await store.putManifest(
                            manifestRecord(i), references: [.init(digest: digest(1_000 + i), kind: .blob)],
                            in: shared, tag: tag("t\(i)"))
                        try await store.linkBlob(digest(1_000 + i), size: Int64(i), in: repo("r\(i % 5)"))
                        try await store.linkBlob(digest(5_000), size: 1, in: shared)
                    }
                }
                try await group.waitForAll()
            }

            #expect(try await store.repositories(after: nil, limit: 100) == repos("r0", "r1", "r2", "r3", "r4", "shared"))
            #expect(try await store.tags(in: shared, after: nil, limit: 100).count == count)
            #expect(try await store.repositoriesLinking(digest(5_000), limit: 10) == [shared])
            for i in 0..<count {
                #expect(try await store.resolveTag(tag("t\(i)"), in: shared) == digest(i))
                #expect(try await store.references(of: digest(i), in: shared) == [.init(digest: digest(1_000 + i), kind: .blob)])
                #expect(try await store.blobLink(digest(1_000 + i), in: repo("r\(i % 5)"))?.size == Int64(i))
            }
        }
    }
}
