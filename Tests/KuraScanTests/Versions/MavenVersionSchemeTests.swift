import KuraScan
import Testing

/// The lists from Maven's own `ComparableVersionTest`; every expectation was checked with
/// Maven 3.8.7's `ComparableVersion` main class.
@Suite struct MavenVersionSchemeTests {
    let scheme = MavenVersionScheme()

    @Test func qualifierOrder() throws {
        try expectAscending([
            "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc",
            "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1",
            "1-1-snapshot", "1-1", "1-2", "1-123",
        ], under: scheme)
    }

    @Test func numberOrder() throws {
        try expectAscending([
            "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1",
            "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m",
        ], under: scheme)
    }

    @Test func releaseAliasesAndTrailingZerosAreEqual() throws {
        try expectEqual([
            ("1.0.0", "1"), ("1", "1-ga"), ("1-ga", "1-final"), ("1-final", "1.0-release"), ("1.0.0-0.0", "1"),
            ("1.0-1", "1-1"), ("1.0-alpha1", "1-a1"), ("2.0.0.RELEASE", "2.0.0"), ("1-CR1", "1-rc1"),
        ], under: scheme)
    }

    @Test func qualifiersAfterADotCountAsAfterAHyphen() throws {
        try expectEqual([("2.0.a", "2-a"), ("1.0.0.x1", "1-x-1"), ("11.a2", "11-alpha-2")], under: scheme)
        try expectAscending(["1.0.0.x1", "1.0.0-x2"], under: scheme)
    }

    @Test func realWorldVersions() throws {
        try expectAscending(["1.0.0-0.0", "1-0.1", "1.0-1"], under: scheme)
        try expectAscending(["1.2.3", "1.2.3-sp1", "1.2.3-jre"], under: scheme)
        try expectAscending(["2.14.1", "2.15.0-rc1", "2.15.0", "2.16.0", "2.17.1"], under: scheme)
        // Numbers beyond 64 bits compare numerically.
        try expectAscending(["1.99999999999999999999", "1.100000000000000000000"], under: scheme)
    }
}
