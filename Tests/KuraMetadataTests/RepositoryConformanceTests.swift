import Foundation
import KuraCore
import KuraMetadata
import Testing

/// Repositories, blob links and upload sessions, run against every store in
/// ``CatalogFixture/all``.
@Suite("MetadataStore conformance: repositories, links, uploads")
struct RepositoryConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func createRepositoryIsIdempotent(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("team/app")
            #expect(try await store.repositoryExists(name) == false)
            try await store.createRepository(name)
            #expect(try await store.repositoryExists(name))
            try await store.createRepository(name)
            #expect(try await store.repositories(after: nil, limit: 10) == [name])
            #expect(try await store.repositoryExists(repo("team")) == false)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func repositoriesListInByteOrderWithPagination(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            for name in ["b", "a_b", "a/b", "a0", "a", "a/b/c", "a.b", "a-b"] {
                try await store.createRepository(repo(name))
            }
            // '-' 0x2d < '.' 0x2e < '/' 0x2f < '0' 0x30 < '_' 0x5f: bytes, not path order.
            let all = try repos("a", "a-b", "a.b", "a/b", "a/b/c", "a0", "a_b", "b")
            #expect(try await store.repositories(after: nil, limit: 100) == all)
            #expect(try await store.repositories(after: nil, limit: 3) == Array(all[0..<3]))
            #expect(try await store.repositories(after: "a.b", limit: 3) == Array(all[3..<6]))
            #expect(try await store.repositories(after: "a0", limit: 3) == Array(all[6..<8]))
            #expect(try await store.repositories(after: "b", limit: 3).isEmpty)
            // `after` need not name a repository.
            #expect(try await store.repositories(after: "a/a", limit: 2) == Array(all[3..<5]))
            #expect(try await store.repositories(after: "", limit: 1) == [all[0]])
            #expect(try await store.repositories(after: nil, limit: 0).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func deleteRepositoryRemovesEverythingInIt(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let doomed = try repo("doomed")
            let kept = try repo("kept")
            // `doomed` last: a store that reuses the highest id would expose leftover rows.
            for name in [kept, doomed] {
                try await store.linkBlob(digest(1), size: 10, in: name)
                try await store.putManifest(
                    manifestRecord(2), references: [.init(digest: digest(1), kind: .blob)], in: name, tag: tag("v1"))
                try await store.putManifest(manifestRecord(3, subject: digest(2)), references: [], in: name, tag: nil)
                try await store.createUpload("upload-\(name.value)", in: name)
            }

            #expect(try await store.deleteRepository(doomed))

            #expect(try await store.repositoryExists(doomed) == false)
            #expect(try await store.repositories(after: nil, limit: 10) == [kept])
            #expect(try await store.upload("upload-doomed") == nil)
            #expect(try await store.repositoriesLinking(digest(1), limit: 10) == [kept])
            // Recreated under the same name, nothing of the old repository shows through.
            try await store.createRepository(doomed)
            #expect(try await store.blobLink(digest(1), in: doomed) == nil)
            #expect(try await store.manifest(digest(2), in: doomed) == nil)
            #expect(try await store.references(of: digest(2), in: doomed).isEmpty)
            #expect(try await store.resolveTag(tag("v1"), in: doomed) == nil)
            #expect(try await store.tags(in: doomed, after: nil, limit: 10).isEmpty)
            #expect(try await store.referrers(of: digest(2), in: doomed, artifactType: nil).isEmpty)

            // The other repository is untouched.
            #expect(try await store.blobLink(digest(1), in: kept)?.size == 10)
            #expect(try await store.manifest(digest(2), in: kept) != nil)
            #expect(try await store.references(of: digest(2), in: kept) == [.init(digest: digest(1), kind: .blob)])
            #expect(try await store.resolveTag(tag("v1"), in: kept) == digest(2))
            #expect(try await store.referrers(of: digest(2), in: kept, artifactType: nil).map(\.digest) == [digest(3)])
            #expect(try await store.upload("upload-kept")?.repository == kept)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func deleteMissingRepositoryReportsFalse(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            #expect(try await store.deleteRepository(repo("never")) == false)
            try await store.createRepository(repo("once"))
            #expect(try await store.deleteRepository(repo("once")))
            #expect(try await store.deleteRepository(repo("once")) == false)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func deleteRepositoryRemovesUploadsOfANeverCreatedRepository(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            try await store.createUpload("u1", in: repo("pending"))
            try await store.createUpload("u2", in: repo("other"))
            _ = try await store.deleteRepository(repo("pending"))
            #expect(try await store.upload("u1") == nil)
            #expect(try await store.upload("u2") != nil)
        }
    }

    // MARK: blob links

    @Test(arguments: CatalogFixture.all)
    func linkAndUnlinkBlob(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("team/app")
            #expect(try await store.blobLink(digest(7), in: name) == nil)

            let before = Date()
            try await store.linkBlob(digest(7), size: 4_096, in: name)
            let after = Date()

            #expect(try await store.repositoryExists(name), "linking creates the repository")
            let link = try #require(try await store.blobLink(digest(7), in: name))
            #expect(link.digest == digest(7))
            #expect(link.size == 4_096)
            #expect(link.linkedAt.isWithin(before, after))
            #expect(try await store.blobLink(digest(8), in: name) == nil)
            #expect(try await store.blobLink(digest(7), in: repo("elsewhere")) == nil)

            #expect(try await store.unlinkBlob(digest(7), from: name))
            #expect(try await store.blobLink(digest(7), in: name) == nil)
            #expect(try await store.unlinkBlob(digest(7), from: name) == false)
            #expect(try await store.unlinkBlob(digest(7), from: repo("elsewhere")) == false)
            #expect(try await store.repositoryExists(name), "unlinking keeps the repository")
        }
    }

    @Test(arguments: CatalogFixture.all)
    func relinkingRefreshesLinkedAt(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            try await store.linkBlob(digest(1), size: 5, in: name)
            let first = try #require(try await store.blobLink(digest(1), in: name)).linkedAt
            try await Task.sleep(for: .milliseconds(20))
            try await store.linkBlob(digest(1), size: 5, in: name)
            let second = try #require(try await store.blobLink(digest(1), in: name)).linkedAt
            #expect(second.timeIntervalSince(first) >= 0.010)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func repositoriesLinkingADigest(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            for name in ["c", "a", "b/x"] {
                try await store.linkBlob(digest(1), size: 1, in: repo(name))
            }
            try await store.linkBlob(digest(2), size: 1, in: repo("z"))

            #expect(try await store.repositoriesLinking(digest(1), limit: 10) == repos("a", "b/x", "c"))
            #expect(try await store.repositoriesLinking(digest(1), limit: 2) == repos("a", "b/x"))
            #expect(try await store.repositoriesLinking(digest(2), limit: 10) == repos("z"))
            #expect(try await store.repositoriesLinking(digest(3), limit: 10).isEmpty)

            try await store.unlinkBlob(digest(1), from: repo("a"))
            #expect(try await store.repositoriesLinking(digest(1), limit: 10) == repos("b/x", "c"))
        }
    }

    // MARK: uploads

    @Test(arguments: CatalogFixture.all)
    func uploadSessions(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            #expect(try await store.upload("u1") == nil)
            let before = Date()
            try await store.createUpload("u1", in: repo("team/app"))
            try await store.createUpload("u2", in: repo("team/other"))
            let after = Date()

            let upload = try #require(try await store.upload("u1"))
            #expect(upload.id == "u1")
            #expect(upload.repository == (try repo("team/app")))
            #expect(upload.createdAt.isWithin(before, after))
            #expect(try await store.upload("u2")?.repository == (try repo("team/other")))

            #expect(try await store.deleteUpload("u1"))
            #expect(try await store.upload("u1") == nil)
            #expect(try await store.deleteUpload("u1") == false)
            #expect(try await store.upload("u2") != nil)
        }
    }
}
