import Foundation
import KuraCore
import KuraMetadata
import Testing

/// Manifests, their references and referrers, run against every store in
/// ``CatalogFixture/all``.
@Suite("MetadataStore conformance: manifests")
struct ManifestConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func putManifestWithoutTagRoundTripsEveryField(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("team/app")
            let record = manifestRecord(
                1, mediaType: "application/vnd.oci.artifact.manifest.v1+json", size: 987_654_321_012,
                artifactType: "application/vnd.example.sbom", subject: digest(9),
                annotations: [
                    "org.opencontainers.image.created": "2024-01-02T03:04:05Z",
                    "text": "a/b \"quoted\" é ✓\n",
                    "empty": "",
                ],
                createdAt: date(milliseconds: 1_600_000_000_456))
            let references: [ManifestReference] = [
                .init(digest: digest(3), kind: .blob),
                .init(digest: digest(2), kind: .blob),
                .init(digest: digest(4), kind: .manifest),
                // The same digest as a blob and as a manifest are two references.
                .init(digest: digest(2), kind: .manifest),
            ]

            try await store.putManifest(record, references: references, in: name, tag: nil)

            #expect(try await store.repositoryExists(name), "putting a manifest creates the repository")
            #expect(try await store.manifest(digest(1), in: name) == record)
            #expect(Set(try await store.references(of: digest(1), in: name)) == Set(references))
            #expect(try await store.references(of: digest(1), in: name).count == 4)
            #expect(try await store.tags(in: name, after: nil, limit: 10).isEmpty)
            #expect(try await store.tags(pointingTo: digest(1), in: name).isEmpty)
            #expect(try await store.manifest(digest(1), in: repo("team/other")) == nil)
            #expect(try await store.manifest(digest(2), in: name) == nil)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func optionalFieldsRoundTripAsAbsent(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let record = manifestRecord(1)
            try await store.putManifest(record, references: [], in: repo("app"), tag: nil)
            let stored = try #require(try await store.manifest(digest(1), in: repo("app")))
            #expect(stored == record)
            #expect(stored.artifactType == nil)
            #expect(stored.subject == nil)
            #expect(stored.annotations.isEmpty)
            #expect(try await store.references(of: digest(1), in: repo("app")).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func putManifestWithTagPointsTheTag(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            try await store.putManifest(manifestRecord(1), references: [], in: name, tag: tag("latest"))
            #expect(try await store.resolveTag(tag("latest"), in: name) == digest(1))
            #expect(try await store.resolveTag(tag("other"), in: name) == nil)
            #expect(try await store.resolveTag(tag("latest"), in: repo("elsewhere")) == nil)
            #expect(try await store.tags(in: name, after: nil, limit: 10) == tags("latest"))
        }
    }

    @Test(arguments: CatalogFixture.all)
    func reputtingAManifestOnlyMovesTheTag(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            let original = manifestRecord(1, annotations: ["k": "v"])
            let refs: [ManifestReference] = [.init(digest: digest(10), kind: .blob)]
            try await store.putManifest(original, references: refs, in: name, tag: tag("latest"))
            try await store.putManifest(manifestRecord(2), references: [], in: name, tag: tag("latest"))
            #expect(try await store.resolveTag(tag("latest"), in: name) == digest(2))
            #expect(try await store.tags(pointingTo: digest(1), in: name).isEmpty)

            // Same digest again, with different fields: the stored row and references stay.
            let changed = manifestRecord(
                1, mediaType: "application/changed", size: 1, annotations: [:], createdAt: date(milliseconds: 5))
            try await store.putManifest(
                changed, references: [.init(digest: digest(11), kind: .manifest)], in: name, tag: tag("latest"))

            #expect(try await store.resolveTag(tag("latest"), in: name) == digest(1))
            #expect(try await store.tags(pointingTo: digest(1), in: name) == tags("latest"))
            #expect(try await store.tags(pointingTo: digest(2), in: name).isEmpty)
            #expect(try await store.manifest(digest(1), in: name) == original)
            #expect(try await store.references(of: digest(1), in: name) == refs)
            #expect(try await store.tags(in: name, after: nil, limit: 10) == tags("latest"))

            // Re-putting without a tag leaves tags alone.
            try await store.putManifest(manifestRecord(2), references: [], in: name, tag: nil)
            #expect(try await store.resolveTag(tag("latest"), in: name) == digest(1))
        }
    }

    @Test(arguments: CatalogFixture.all)
    func deleteManifestRemovesItsTagsAndReferences(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            let refs: [ManifestReference] = [.init(digest: digest(10), kind: .blob)]
            try await store.putManifest(manifestRecord(1), references: refs, in: name, tag: tag("a"))
            try await store.putManifest(manifestRecord(1), references: refs, in: name, tag: tag("b"))
            try await store.putManifest(manifestRecord(2), references: refs, in: name, tag: tag("c"))
            // The same manifest in another repository is separate.
            try await store.putManifest(manifestRecord(1), references: refs, in: repo("other"), tag: tag("a"))

            #expect(try await store.deleteManifest(digest(1), in: name))

            #expect(try await store.manifest(digest(1), in: name) == nil)
            #expect(try await store.references(of: digest(1), in: name).isEmpty)
            #expect(try await store.resolveTag(tag("a"), in: name) == nil)
            #expect(try await store.resolveTag(tag("b"), in: name) == nil)
            #expect(try await store.resolveTag(tag("c"), in: name) == digest(2))
            #expect(try await store.tags(in: name, after: nil, limit: 10) == tags("c"))
            #expect(try await store.references(of: digest(2), in: name) == refs)
            #expect(try await store.resolveTag(tag("a"), in: repo("other")) == digest(1))
            #expect(try await store.references(of: digest(1), in: repo("other")) == refs)

            #expect(try await store.deleteManifest(digest(1), in: name) == false)
            #expect(try await store.deleteManifest(digest(1), in: repo("never")) == false)

            // Put back without references: none of the old ones survived the delete.
            try await store.putManifest(manifestRecord(1), references: [], in: name, tag: nil)
            #expect(try await store.references(of: digest(1), in: name).isEmpty)
            #expect(try await store.tags(pointingTo: digest(1), in: name).isEmpty)
        }
    }

    @Test(arguments: CatalogFixture.all)
    func referrersAreFilteredByArtifactTypeAndOrderedByDigest(_ fixture: CatalogFixture) async throws {
        try await fixture.with { store in
            let name = try repo("app")
            let subject = digest(100)
            let sbom = "application/vnd.example.sbom"
            let signature = "application/vnd.example.signature"
            try await store.putManifest(manifestRecord(100), references: [], in: name, tag: tag("v1"))
            // Put out of digest order, so ordering cannot come from insertion order.
            let referrers = [
                manifestRecord(3, artifactType: sbom, subject: subject, annotations: ["n": "3"]),
                manifestRecord(1, artifactType: signature, subject: subject, annotations: ["n": "1"]),
                manifestRecord(2, artifactType: sbom, subject: subject),
                manifestRecord(4, subject: subject),
            ]
            for record in referrers {
                try await store.putManifest(record, references: [], in: name, tag: nil)
            }
            try await store.putManifest(
                manifestRecord(5, artifactType: sbom, subject: digest(101)), references: [], in: name, tag: nil)
            try await store.putManifest(
                manifestRecord(6, artifactType: sbom, subject: subject), references: [], in: repo("other"), tag: nil)

            let all = try await store.referrers(of: subject, in: name, artifactType: nil)
            #expect(all.map(\.digest) == [digest(1), digest(2), digest(3), digest(4)])
            #expect(all.first { $0.digest == digest(3) } == referrers[0])
            #expect(all.first { $0.digest == digest(1) }?.annotations == ["n": "1"])

            #expect(try await store.referrers(of: subject, in: name, artifactType: sbom).map(\.digest) == [digest(2), digest(3)])
            #expect(try await store.referrers(of: subject, in: name, artifactType: signature).map(\.digest) == [digest(1)])
            #expect(try await store.referrers(of: subject, in: name, artifactType: "application/none").isEmpty)
            #expect(try await store.referrers(of: digest(101), in: name, artifactType: nil).map(\.digest) == [digest(5)])
            #expect(try await store.referrers(of: digest(999), in: name, artifactType: nil).isEmpty)
            #expect(try await store.referrers(of: subject, in: repo("other"), artifactType: nil).map(\.digest) == [digest(6)])

            // Referrers do not depend on their subject being stored.
            _ = try await store.deleteManifest(subject, in: name)
            #expect(try await store.referrers(of: subject, in: name, artifactType: nil).count == 4)
        }
    }
}
