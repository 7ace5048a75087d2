import Foundation
import KuraScan
import Testing

/// Cases from rpm's own test suite (tests/rpmvercmp.at) and the RHEL/Fedora packaging
/// guidelines on tilde and caret.
@Suite struct RpmVersionSchemeTests {
    let scheme = RpmVersionScheme()

    @Test func rpmvercmpBasics() throws {
        try expectEqual([("1.0", "1.0"), ("1.0010", "1.10"), ("2.50", "2.050"), ("1.0", "1_0"), ("1+0", "1.0"), ("1..0", "1.0")], under: scheme)
        try expectAscending(["1.0", "1.0a", "1.0.1"], under: scheme)
        try expectAscending(["2.0", "2.0.1", "2.0.1a", "2.1"], under: scheme)
        // A numeric segment is newer than an alphabetic one.
        try expectAscending(["1.a", "1.1"], under: scheme)
        try expectAscending(["xyz10", "xyz10.1"], under: scheme)
        try expectAscending(["5.5p1", "5.5p2", "5.5p10", "5.6p1"], under: scheme)
        try expectAscending(["10abc", "10.1abc"], under: scheme)
        try expectAscending(["FC5", "fc4"], under: scheme)  // byte order: upper case first
    }

    @Test func tildeSortsBeforeTheRelease() throws {
        try expectAscending(["1.0~~", "1.0~rc1", "1.0~rc2", "1.0", "1.0.1"], under: scheme)
        try expectEqual([("1.0~rc1", "1.0~rc1")], under: scheme)
        try expectAscending(["1.0~rc1", "1.0arc1"], under: scheme)
    }

    @Test func caretSortsAfterTheReleaseButBeforeTheNextSegment() throws {
        try expectAscending(["1.0~rc1", "1.0", "1.0^", "1.0^git1", "1.0^git2", "1.0.1"], under: scheme)
        try expectAscending(["1.0^git1~pre", "1.0^git1"], under: scheme)
        try expectAscending(["1.0^20160101", "1.0.1"], under: scheme)
    }

    @Test func epochThenVersionThenRelease() throws {
        try expectAscending(["1.1.1k-7.el8_6", "1.1.1k-12.el8_9", "1.1.1l-1.el8", "1:1.0-1.el8", "2:0.1-1"], under: scheme)
        try expectEqual([("0:1.1.1k-7.el8_6", "1.1.1k-7.el8_6")], under: scheme)
        try expectAscending(["3.0.7-24.el9", "3.0.7-25.el9", "3.0.7-25.el9_3", "3.0.7-27.el9"], under: scheme)
    }
}
