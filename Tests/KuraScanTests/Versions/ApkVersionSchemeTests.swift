import KuraScan
import Testing

/// Alpine's rules (apk-tools `version.c`, the Alpine package version format).
@Suite struct ApkVersionSchemeTests {
    let scheme = ApkVersionScheme()

    @Test func preReleaseSuffixesSortBeforeTheReleasePostReleaseAfter() throws {
        try expectAscending([
            "1.0_alpha", "1.0_alpha1", "1.0_alpha2", "1.0_beta", "1.0_pre1", "1.0_rc1", "1.0_rc2",
            "1.0", "1.0_cvs", "1.0_svn", "1.0_git20240101", "1.0_hg", "1.0_p1", "1.0_p2", "1.0.1",
        ], under: scheme)
    }

    @Test func revisionsAndLetters() throws {
        try expectAscending(["3.1.4-r0", "3.1.4-r1", "3.1.4-r10", "3.1.4a-r0", "3.1.4b", "3.1.5-r0"], under: scheme)
        try expectAscending(["1.0", "1.0-r1"], under: scheme)
        try expectAscending(["1.0", "1.0a"], under: scheme)
        try expectEqual([("1.0-r0", "1.0-r0")], under: scheme)
    }

    @Test func numbersAndLeadingZeros() throws {
        try expectAscending(["1.2", "1.10", "2.0"], under: scheme)
        try expectAscending(["1.9", "1.10.0", "1.10.0.1"], under: scheme)
        // A leading zero after a dot makes a component compare as a fraction.
        try expectAscending(["1.001", "1.01", "1.1"], under: scheme)
        try expectAscending(["3.0.8-r0", "3.0.12-r0", "3.1.0-r0", "3.1.4-r5"], under: scheme)
    }
}
