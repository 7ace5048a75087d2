import KuraCore
import KuraMetadata
import Testing

/// Tags, run against every store in ``CatalogFixture/all``.
@Suite("MetadataStore conformance: tags")
struct TagConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func tagsListInByteOrderWithPagination(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            for (n, text) in ["a", "B", "10", "_x", "2", "a.b", "1", "A-1"].enumerated() {
                try await store.putManifest(manifestRecord(n), references: [], in: name, tag: tag(text))
            }
            // Bytewise: digits < upper case < '_' < lower case; a prefix sorts first.
            let all = try tags("1", "10", "2", "A-1", "B", "_x", "a", "a.b")
            #expect(try await store.tags(in: name, after: nil, limit: 100) == all)
            #expect(try await store.tags(in: name, after: nil, limit: 3) == Array(all[0..<3]))
            #expect(try await store.tags(in: name, after: "2", limit: 3) == Array(all[3..<6]))
            #expect(try await store.tags(in: name, after: "_x", limit: 3) == Array(all[6..<8]))
            #expect(try await store.tags(in: name, after: "a.b", limit: 3).isEmpty)
            // `after` need not name a tag.
            #expect(try await store.tags(in: name, after: "0", limit: 1) == [all[0]])
            #expect(try await store.tags(in: name, after: "Z", limit: 2) == Array(all[5..<7]))
            #expect(try await store.tags(in: name, after: nil, limit: 0).isEmpty)
            #expect(try await store.tags(in: repo("other"), after: nil, limit: 10).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func tagsAreScopedByRepository(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            try await store.putManifest(manifestRecord(1), references: [], in: repo("one"), tag: tag("v1"))
            try await store.putManifest(manifestRecord(2), references: [], in: repo("two"), tag: tag("v1"))
            #expect(try await store.resolveTag(tag("v1"), in: repo("one")) == digest(1))
            #expect(try await store.resolveTag(tag("v1"), in: repo("two")) == digest(2))
            #expect(try await store.tags(pointingTo: digest(1), in: repo("two")).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func tagsPointingToADigest(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            for text in ["v1", "latest", "stable"] {
                try await store.putManifest(manifestRecord(1), references: [], in: name, tag: tag(text))
            }
            try await store.putManifest(manifestRecord(2), references: [], in: name, tag: tag("v2"))

            #expect(Set(try await store.tags(pointingTo: digest(1), in: name)) == Set(try tags("latest", "stable", "v1")))
            #expect(try await store.tags(pointingTo: digest(2), in: name) == tags("v2"))
            #expect(try await store.tags(pointingTo: digest(3), in: name).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func deleteTagKeepsTheManifest(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            try await store.putManifest(manifestRecord(1), references: [], in: name, tag: tag("v1"))
            try await store.putManifest(manifestRecord(1), references: [], in: name, tag: tag("latest"))

            // It answers the digest the tag pointed at (webhook delete events carry it).
            #expect(try await store.deleteTag(tag("v1"), in: name) == digest(1))

            #expect(try await store.resolveTag(tag("v1"), in: name) == nil)
            #expect(try await store.resolveTag(tag("latest"), in: name) == digest(1))
            #expect(try await store.manifest(digest(1), in: name) != nil)
            #expect(try await store.tags(in: name, after: nil, limit: 10) == tags("latest"))
            #expect(try await store.deleteTag(tag("v1"), in: name) == nil)
            #expect(try await store.deleteTag(tag("latest"), in: repo("never")) == nil)
        }
    }
}
