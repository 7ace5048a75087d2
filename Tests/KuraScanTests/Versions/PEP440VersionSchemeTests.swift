import KuraScan
import Testing

/// PEP 440's own ordering example and its normalisation rules; every expectation was
/// checked with `packaging.version.Version`.
@Suite struct PEP440VersionSchemeTests {
    let scheme = PEP440VersionScheme()

    @Test func orderFromPEP440() throws {
        try expectAscending([
            "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
            "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5",
            "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1",
        ], under: scheme)
    }

    @Test func epochsOutrankReleases() throws {
        try expectAscending(["2.0", "2013.10", "1!0.5", "1!1.0", "2!0.1"], under: scheme)
        try expectEqual([("0!1.0", "1.0")], under: scheme)
    }

    @Test func alternativeSpellingsNormalise() throws {
        try expectEqual([
            ("v1.0RC1", "1.0rc1"), ("1.0-alpha-1", "1.0a1"), ("1.0-1", "1.0.post1"), ("1.0.r", "1.0.post0"),
            ("1.0preview2", "1.0rc2"), ("1.0c1", "1.0rc1"), ("1.0.0", "1.0"), ("1.0_dev_3", "1.0.dev3"),
            ("1.0-beta.2", "1.0b2"), ("1.0rev4", "1.0.post4"), (" 1.0 ", "1.0"),
        ], under: scheme)
    }

    @Test func localVersionSegments() throws {
        // Numbers sort after strings, numerically; a longer label after its prefix.
        try expectAscending(["1.0", "1.0+abc", "1.0+abc.1", "1.0+abc.5", "1.0+abc.10", "1.0+1", "1.0+2"], under: scheme)
    }

    @Test func invalidVersionsAreRejected() {
        for bad in ["", "abc", "1.0+", "1.0.dev.x", "1.0-", "1!", "1.0+a..b", "1.0 junk"] {
            #expect(throws: VersionError.self, "\(bad)") { try scheme.compare(bad, "1.0") }
        }
    }
}
