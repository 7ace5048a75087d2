import Foundation
import KuraCore
import KuraMetadata
import Testing

/// Each tag's last pull, as the usage meter's flush records it, on every catalog in
/// ``CatalogFixture/all``.
@Suite struct TagPullConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func pullsByTagAndByDigestMarkTheirTags(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let app = try repo("team/app"), other = try repo("team/other")
            let metadata = catalog.metadata
            // v1 and latest share manifest 1; v2 is manifest 2; the other repository has its own v1.
            try await metadata.putManifest(manifestRecord(1), references: [], in: app, tag: tag("v1"))
            try await metadata.putManifest(manifestRecord(1), references: [], in: app, tag: tag("latest"))
            try await metadata.putManifest(manifestRecord(2), references: [], in: app, tag: tag("v2"))
            try await metadata.putManifest(manifestRecord(1), references: [], in: other, tag: tag("v1"))
            let t0 = date(milliseconds: 1_764_403_200_000), t1 = date(milliseconds: 1_764_403_260_000), t2 = date(milliseconds: 1_764_403_320_000)
            let all = try tags("v1", "latest", "v2", "gone")
            func pulls() async throws -> [KuraCore.Tag: Date] { try await catalog.usage.lastPulls(of: all, in: app) }

            #expect(try await pulls().isEmpty)
            try await catalog.usage.recordPulls([
                ManifestPull(repository: app, reference: .tag(try tag("v2"))): t0,
                // A tag that does not exist is skipped, not an error.
                ManifestPull(repository: app, reference: .tag(try tag("gone"))): t0,
            ])
            #expect(try await pulls() == [try tag("v2"): t0])
            // By digest: every tag of this repository pointing at it, none elsewhere.
            try await catalog.usage.recordPulls([ManifestPull(repository: app, reference: .digest(digest(1))): t1])
            #expect(try await pulls() == [try tag("v1"): t1, try tag("latest"): t1, try tag("v2"): t0])
            #expect(try await catalog.usage.lastPulls(of: try tags("v1"), in: other).isEmpty)
            // An older time (another node's late flush) does not move a pull back.
            try await catalog.usage.recordPulls([ManifestPull(repository: app, reference: .tag(try tag("v1"))): t0])
            #expect(try await pulls()[try tag("v1")] == t1)
            try await catalog.usage.recordPulls([ManifestPull(repository: app, reference: .tag(try tag("v1"))): t2])
            #expect(try await pulls()[try tag("v1")] == t2)

            // A tag moved to another manifest keeps its last pull; a deleted tag loses it, also
            // when a tag of that name comes back.
            try await metadata.putManifest(manifestRecord(2), references: [], in: app, tag: tag("latest"))
            #expect(try await pulls()[try tag("latest")] == t1)
            try await metadata.deleteTag(try tag("v2"), in: app)
            try await metadata.putManifest(manifestRecord(2), references: [], in: app, tag: tag("v2"))
            #expect(try await pulls()[try tag("v2")] == nil)
            // Deleting the manifest takes its tags and their pulls.
            try await metadata.deleteManifest(digest(1), in: app)
            #expect(try await pulls() == [try tag("latest"): t1])
            #expect(try await catalog.usage.lastPulls(of: [], in: app).isEmpty)
            try await catalog.usage.recordPulls([:])
        }
    }
}
