import Foundation
import KuraScan
import Testing

/// deb-version(7) cases; every expectation was checked with `dpkg --compare-versions`.
@Suite struct DpkgVersionSchemeTests {
    let scheme = DpkgVersionScheme()

    @Test func tildeSortsBeforeEverythingEvenTheEnd() throws {
        try expectAscending(["1.0~~", "1.0~~a", "1.0~", "1.0~rc1", "1.0", "1.0a", "1.0+", "1.0.1"], under: scheme)
        try expectAscending(["3.0.11-1~deb12u2", "3.0.11-1", "3.0.15-1~deb12u1"], under: scheme)
    }

    @Test func epochOutranksEverythingAndDefaultsToZero() throws {
        try expectAscending(["2.0", "1:0.9", "1:1.0", "2:0.1"], under: scheme)
        try expectEqual([("0:1.0", "1.0"), ("00:1.0", "1.0")], under: scheme)
    }

    @Test func revisionComparesAfterUpstreamAndSplitsAtTheLastHyphen() throws {
        try expectAscending(["1.0-1", "1.0-1ubuntu1", "1.0-1.1", "1.0-a", "1.0+dfsg-1"], under: scheme)
        // An absent revision equals revision 0; the last hyphen starts the revision.
        try expectEqual([("1.0", "1.0-0"), ("1.2-3-4", "1.2-3-4")], under: scheme)
        try expectAscending(["1.2-3-4", "1.2-3-5", "1.2-4-1"], under: scheme)
    }

    @Test func numbersCompareNumericallyWithLeadingZerosIgnored() throws {
        try expectAscending(["2.36-9+deb12u4", "2.36-9+deb12u10", "2.37"], under: scheme)
        try expectEqual([("01", "1"), ("1.001", "1.1")], under: scheme)
        // Numbers longer than any integer type.
        try expectAscending(["1.99999999999999999999999", "1.100000000000000000000000"], under: scheme)
    }

    /// The real `dpkg` orders every pair of versions installed on this machine as we do.
    @Test func agreesWithDpkgOnThisMachinesInstalledVersions() async throws {
        let status = try String(contentsOfFile: "/var/lib/dpkg/status", encoding: .utf8)
        let versions = Array(Set(status.split(separator: "\n").filter { $0.hasPrefix("Version: ") }.map { String($0.dropFirst(9)) })).sorted().prefix(40)
        #expect(versions.count >= 20)
        let list = Array(versions)
        for (a, b) in zip(list, list.dropFirst(7) + list.prefix(7)) {
            let expected: ComparisonResult =
                try await dpkgSays(a, "lt", b) ? .orderedAscending : (try await dpkgSays(a, "eq", b) ? .orderedSame : .orderedDescending)
            #expect(scheme.compare(a, b) == expected, "\(a) vs \(b)")
        }
    }

    /// `dpkg --compare-versions a relation b`: exit status 0 when the relation holds.
    private func dpkgSays(_ a: String, _ relation: String, _ b: String) async throws -> Bool {
        do {
            try await run("/usr/bin/dpkg", ["--compare-versions", a, relation, b])
            return true
        } catch let failure as CommandFailed where failure.status == 1 {
            return false
        }
    }
}
