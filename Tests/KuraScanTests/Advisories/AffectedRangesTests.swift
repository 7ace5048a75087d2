import Testing
@testable import KuraScan

/// OSV range semantics (the schema's "Evaluation" section).
@Suite struct AffectedRangesTests {
    typealias Event = OSVDocument.Event

    func ranges(_ events: [Event]..., versions: [String] = []) -> AffectedRanges {
        AffectedRanges(ranges: events, versions: versions)
    }

    @Test func introducedZeroToFixed() {
        let r = ranges([Event(introduced: "0"), Event(fixed: "3.0.11-1~deb12u1")])
        let dpkg = DpkgVersionScheme()
        #expect(r.verdict(for: "3.0.9-1", scheme: dpkg) == .init(isAffected: true, fixedVersion: "3.0.11-1~deb12u1"))
        #expect(r.verdict(for: "3.0.11-1~deb12u1", scheme: dpkg).isAffected == false)
        #expect(r.verdict(for: "3.0.11-1~deb12u0", scheme: dpkg).isAffected)
        #expect(r.verdict(for: "3.0.19-1~deb12u2", scheme: dpkg).isAffected == false)
    }

    @Test func unfixedAdvisoryAffectsEverythingFromIntroduced() {
        let r = ranges([Event(introduced: "1.2.0")])
        let semver = SemanticVersionScheme(flavour: .npm)
        #expect(r.verdict(for: "1.1.9", scheme: semver).isAffected == false)
        #expect(r.verdict(for: "1.2.0", scheme: semver) == .init(isAffected: true, fixedVersion: nil))
        #expect(r.verdict(for: "9.0.0", scheme: semver).isAffected)
    }

    @Test func lastAffectedIsInclusive() {
        let r = ranges([Event(introduced: "1.0.0"), Event(lastAffected: "1.4.2")])
        let semver = SemanticVersionScheme(flavour: .npm)
        #expect(r.verdict(for: "1.4.2", scheme: semver).isAffected)
        #expect(r.verdict(for: "1.4.3", scheme: semver).isAffected == false)
    }

    @Test func severalIntervalsInOneRangeAndEventsOutOfOrder() {
        // Events given out of order are sorted before evaluation.
        let r = ranges([Event(fixed: "2.3.1"), Event(introduced: "2.13.0"), Event(introduced: "2.0-beta9"), Event(fixed: "2.15.0")])
        let maven = MavenVersionScheme()
        #expect(r.verdict(for: "2.0-beta8", scheme: maven).isAffected == false)
        #expect(r.verdict(for: "2.0", scheme: maven) == .init(isAffected: true, fixedVersion: "2.3.1"))
        #expect(r.verdict(for: "2.5", scheme: maven).isAffected == false)
        #expect(r.verdict(for: "2.14.1", scheme: maven) == .init(isAffected: true, fixedVersion: "2.15.0"))
        #expect(r.verdict(for: "2.15.0", scheme: maven).isAffected == false)
    }

    @Test func explicitVersionsListAndUnparsableRangesSkipped() {
        let r = ranges([Event(introduced: "not-semver"), Event(fixed: "2.0.0")], versions: ["1.0.0"])
        let semver = SemanticVersionScheme(flavour: .npm)
        #expect(r.verdict(for: "1.0.0", scheme: semver).isAffected)
        #expect(r.verdict(for: "1.5.0", scheme: semver).isAffected == false)
    }
}
