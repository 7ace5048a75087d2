import Foundation
import KuraScan
import Testing

/// Semantic Versioning 2.0.0 §11 (checked with npm's own `semver` package) and the Go
/// module reference (pseudo-versions, `+incompatible`).
@Suite struct SemanticVersionSchemeTests {
    let npm = SemanticVersionScheme(flavour: .npm)
    let go = SemanticVersionScheme(flavour: .go)

    @Test func preReleaseOrderFromTheSpecification() throws {
        try expectAscending([
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
            "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0",
        ], under: npm)
    }

    @Test func buildMetadataAndPrefixesAreIgnored() throws {
        try expectEqual([("1.0.0+build.1", "1.0.0"), ("v1.2.3", "1.2.3"), ("=1.2.3", "1.2.3"), ("1.0.0-rc.1+b", "1.0.0-rc.1")], under: npm)
    }

    @Test func invalidVersionsAreRejected() {
        for bad in ["1.0", "1.0.0.0", "01.0.0", "1.0.0-01", "1.0.0-", "1.0.0+", "a.b.c", "", "1..0"] {
            #expect(throws: VersionError.self, "\(bad)") { try npm.compare(bad, "1.0.0") }
        }
    }

    @Test func goPseudoVersionsSortWhereTheGoCommandPutsThem() throws {
        try expectAscending([
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20200101000000-aaaaaaaaaaaa",
            "v0.1.0",
            "v1.2.3",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.4-pre",
            "v1.2.4-pre.0.20200101000000-bbbbbbbbbbbb",
            "v1.2.4",
        ], under: go)
    }

    @Test func goShortFormsAndIncompatible() throws {
        try expectEqual([("v1", "v1.0.0"), ("v1.2", "v1.2.0"), ("v2.0.0+incompatible", "v2.0.0"), ("1.2.3", "v1.2.3")], under: go)
        #expect(throws: VersionError.self) { try npm.compare("v1", "v1.0.0") }
    }
}
